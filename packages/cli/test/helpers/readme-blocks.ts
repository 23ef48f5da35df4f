// The README's shell blocks and what each is marked to do in its test: every ```sh block is
// preceded (blank lines aside) by `<!-- readme-test: run -->`, optionally with a note in
// parentheses, or by `<!-- readme-test: skip: <why it cannot run here> -->`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const README = fileURLToPath(new URL('../../../../../README.md', import.meta.url));

export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
  /** 'run', 'skip', or undefined when the block has no valid marker. */
  action: 'run' | 'skip' | undefined;
  /** The skip reason or the run note. */
  note: string | undefined;
  /** The line before the block, when it is no valid marker (for the error message). */
  before: string | undefined;
}

const MARKER = /^<!-- readme-test: (run|skip)(?:: (.*?)| \((.*)\))? -->$/;

export function readmeBlocks(text = readFileSync(README, 'utf8')): ReadmeBlock[] {
  const lines = text.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    let prev = i - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev--;
    const marker = prev >= 0 ? MARKER.exec(lines[prev]!.trim()) : null;
    const action = marker?.[1] as 'run' | 'skip' | undefined;
    const note = marker?.[2] ?? marker?.[3];
    blocks.push({
      line: i + 1,
      lang: open[1]!,
      text: lines.slice(i + 1, end).join('\n'),
      action: action === 'skip' && (note === undefined || note.trim() === '') ? undefined : action,
      note,
      before: marker === null && prev >= 0 ? lines[prev] : undefined,
    });
    i = end;
  }
  return blocks;
}

/** Blocks that are shell commands: these must say whether the README test runs them. */
export function shellBlocks(blocks: ReadmeBlock[]): ReadmeBlock[] {
  return blocks.filter((b) => b.lang === 'sh' || b.lang === 'bash' || b.lang === 'shell');
}
