import chalk from 'chalk';
import Table from 'cli-table3';

export interface OutputOptions {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Aligned table without borders (kubectl style), coloured headers when stdout is a terminal. */
export function printTable(head: string[], rows: Array<Array<string | number>>): void {
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
  process.stdout.write(table.toString() + '\n');
}

export function printKeyValues(pairs: Array<[string, string | number | undefined]>): void {
  const width = Math.max(...pairs.map(([k]) => k.length));
  for (const [k, v] of pairs) process.stdout.write(`${chalk.bold(k.padEnd(width))}  ${v ?? '-'}\n`);
}

export function colourState(state: string): string {
  if (['up', 'healthy', 'in-sync', 'done', 'leader', 'attached'].includes(state))
    return chalk.green(state);
  if (['down', 'failed', 'removed', 'error', 'unreachable'].includes(state))
    return chalk.red(state);
  return chalk.yellow(state);
}
