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

/** A time as a date and an age: `2026-12-07T05:20:01Z (3m12s ago)`. */
export function dateAndAge(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return '-';
  const date = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `${date} (${formatAge(now - ms)})`;
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
