import chalk from 'chalk';
import Table from 'cli-table3';
import { stringify as toYaml } from 'yaml';

export interface OutputOptions {
  json?: boolean;
}

/**
 * NO_COLOR (https://no-color.org): set and not empty, no colour anywhere, whatever the terminal.
 * chalk's own detection only reads FORCE_COLOR and the terminal, so the CLI applies it.
 */
export function applyNoColor(env = process.env): void {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') chalk.level = 0;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** YAML through the `yaml` package: plain keys, no anchors (each object is written out). */
export function formatYaml(value: unknown): string {
  return toYaml(value, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** Aligned table without borders (kubectl style), coloured headers when stdout is a terminal. */
export function formatTable(head: string[], rows: Array<Array<string | number>>): string {
  const table = new Table({
    head: head.map((h) => chalk.bold(h)),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const r of rows) table.push(r.map(String));
  return table.toString() + '\n';
}

export function printTable(head: string[], rows: Array<Array<string | number>>): void {
  process.stdout.write(formatTable(head, rows));
}

export function formatKeyValues(pairs: Array<[string, string | number | undefined]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${chalk.bold(k.padEnd(width))}  ${v ?? '-'}\n`).join('');
}

export function printKeyValues(pairs: Array<[string, string | number | undefined]>): void {
  process.stdout.write(formatKeyValues(pairs));
}

/** Titled bullet lists (`What happened:` ...); empty sections are left out. */
export function formatSections(sections: Array<[string, string[]]>): string {
  let out = '';
  for (const [title, lines] of sections) {
    if (lines.length === 0) continue;
    out += `\n${title}\n`;
    for (const line of lines) out += `  - ${line}\n`;
  }
  return out;
}

export function colourState(state: string): string {
  if (['up', 'healthy', 'in-sync', 'done', 'leader', 'attached', 'alive'].includes(state))
    return chalk.green(state);
  if (['down', 'failed', 'removed', 'error', 'unreachable', 'dead'].includes(state))
    return chalk.red(state);
  return chalk.yellow(state);
}

/** A time as a date and an age: `2026-12-07T05:20:01Z (3m12s ago)`. */
export function dateAndAge(ms: number | null | undefined, now = Date.now()): string {
  const date = formatDate(ms);
  return date === '-' ? date : `${date} (${formatAge(now - ms!)})`;
}

/** A time as a date alone (table columns: it does not change while a watch shows it). */
export function formatDate(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return '-';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A duration as people read it: 42s, 3m12s, 5h4m, 2d3h; `in ...` when in the future. */
export function formatAge(ms: number): string {
  if (ms < 0) return `in ${formatAge(-ms).replace(/ ago$/, '')}`;
  const s = Math.floor(ms / 1000);
  const text =
    s < 60
      ? `${s}s`
      : s < 3600
        ? `${Math.floor(s / 60)}m${s % 60}s`
        : s < 86_400
          ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
          : `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
  return `${text} ago`;
}
