import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ApiClient, CliError, ExitCode, resolveEndpoint, type EndpointFlags } from '../client.js';
import { formatJson, formatYaml } from '../output.js';

/** Adds the flags every cluster-facing command accepts. */
export function withEndpointOptions(cmd: Command): Command {
  return cmd
    .option('--cluster <file>', 'cluster.json from `ballast dev up` (env BALLAST_CLUSTER)')
    .option('--endpoint <urls>', 'meta API URLs, comma-separated (env BALLAST_ENDPOINT)')
    .option('--token <token>', 'admin token (env BALLAST_TOKEN)')
    .option('--ca <file>', 'CA certificate for an https endpoint (env BALLAST_CA)')
    .option('--json', 'machine-readable output (the same as -o json where -o exists)');
}

/** The client for the command being run, from its options and those of its parents. */
export function clientFor(cmd: Command): ApiClient {
  const opts = cmd.optsWithGlobals<EndpointFlags>();
  return new ApiClient(resolveEndpoint(opts));
}

export function wantsJson(cmd: Command): boolean {
  return Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
  revision: number;
}

/** Follows the API's cursor pagination to the end (bounded, as every loop should be). */
export async function listAll<T>(
  client: ApiClient,
  path: string,
  query = new URLSearchParams(),
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const q = new URLSearchParams(query);
    q.set('limit', '1000');
    if (cursor) q.set('cursor', cursor);
    const res: Page<T> = await client.request<Page<T>>('GET', `${path}?${q.toString()}`);
    out.push(...res.items);
    cursor = res.nextCursor;
    if (!cursor) return out;
  }
  throw new CliError(`listing ${path} did not end after 10000 pages`, ExitCode.FAILURE);
}

/** `zone=a,rack=r1` -> {zone: 'a', rack: 'r1'} */
export function parseLabels(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new CliError(`${what}: expected key=value pairs, got "${part}"`, ExitCode.USAGE);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** What `-o, --output` takes; without it a command prints its table (or its details). */
export const OUTPUT_FORMATS = ['json', 'yaml', 'wide', 'name'] as const;
export type OutputFormat = 'default' | (typeof OUTPUT_FORMATS)[number];

/** The formats each command with `-o` accepts (checked before the command does anything). */
const acceptedFormats = new WeakMap<Command, readonly string[]>();

/**
 * Adds `-o, --output FORMAT`. `--json` (from withEndpointOptions, or the command's own) stays an
 * alias of `-o json`.
 */
export function withOutputOption(
  cmd: Command,
  formats: readonly string[] = OUTPUT_FORMATS,
): Command {
  acceptedFormats.set(cmd, formats);
  const what: Record<string, string> = {
    json: 'json',
    yaml: 'yaml',
    wide: 'wide (more columns)',
    name: 'name (kind/name, one a line)',
  };
  return cmd.option(
    '-o, --output <format>',
    `output format: ${formats.map((f) => what[f] ?? f).join(', ')}`,
  );
}

/**
 * The output format asked for; a bad value is a usage error (exit 2). The program checks it in a
 * preAction hook for every command that has `-o`, so a bad value stops the command before it
 * sends anything.
 */
export function outputFormat(cmd: Command): OutputFormat {
  const formats = acceptedFormats.get(cmd) ?? OUTPUT_FORMATS;
  const { output, json } = cmd.opts<{ output?: string; json?: boolean }>();
  if (output === undefined) return json === true ? 'json' : 'default';
  if (!formats.includes(output)) {
    throw new CliError(
      `--output must be one of ${formats.join(', ')}; got "${output}"`,
      ExitCode.USAGE,
    );
  }
  if (json === true && output !== 'json') {
    throw new CliError(`--json and --output ${output} disagree: give one of them`, ExitCode.USAGE);
  }
  return output as OutputFormat;
}

/** Checks `-o` of the command about to run (the program's preAction hook). */
export function checkOutputOption(cmd: Command): void {
  if (acceptedFormats.has(cmd)) outputFormat(cmd);
}

/** How one kind of answer is shown in each output format. */
export interface View<S> {
  /** `-o name` prints `kind/name`, as `kubectl get -o name` does. */
  kind: string;
  /** What json and yaml print. */
  data(s: S): unknown;
  names(s: S): string[];
  /** The table or the details; `wide` adds what the default leaves out. */
  text(s: S, wide: boolean): string;
}

export function render<S>(view: View<S>, s: S, format: OutputFormat, compact = false): string {
  switch (format) {
    case 'json':
      return compact ? JSON.stringify(view.data(s)) + '\n' : formatJson(view.data(s));
    case 'yaml':
      return (compact ? '---\n' : '') + formatYaml(view.data(s));
    case 'name':
      return view
        .names(s)
        .map((n) => `${view.kind}/${n}\n`)
        .join('');
    default:
      return view.text(s, format === 'wide');
  }
}

/** Adds `-w, --watch` to a list. */
export function withWatchOption(cmd: Command): Command {
  return cmd.option(
    '-w, --watch',
    'print the list again each time it changes (looks every second; Ctrl-C stops)',
  );
}

/** How often `--watch` lists again. */
export const WATCH_INTERVAL_MS = 1_000;

/**
 * Prints what `fetch` answers in the command's output format; with --watch, again each time the
 * output changes, until SIGINT/SIGTERM or a closed pipe (both end it with exit code 0). It polls
 * rather than following meta's watch stream: the lists show what no map event carries (a node's
 * used bytes and silence come from heartbeats, a task's rate from the clock).
 */
export async function showList<S>(
  cmd: Command,
  view: View<S>,
  fetch: () => Promise<S>,
  intervalMs = WATCH_INTERVAL_MS,
): Promise<void> {
  const format = outputFormat(cmd);
  if (cmd.opts<{ watch?: boolean }>().watch !== true) {
    process.stdout.write(render(view, await fetch(), format));
    return;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => process.exit(ExitCode.OK));
  }
  const tty = process.stdout.isTTY === true;
  const title = `ballast ${cmd.parent?.name() ?? ''} ${cmd.name()}`;
  let last: string | undefined;
  let lastError: string | undefined;
  for (;;) {
    let out: string | undefined;
    try {
      out = render(view, await fetch(), format, true);
      lastError = undefined;
    } catch (err) {
      // A leader election or a restart is worth waiting out; anything else ends the watch.
      if (!(err instanceof CliError) || err.exitCode !== ExitCode.UNAVAILABLE) throw err;
      if (err.message !== lastError) process.stderr.write(`${err.message} (still watching)\n`);
      lastError = err.message;
    }
    if (out !== undefined && out !== last) {
      if (tty && (format === 'default' || format === 'wide' || format === 'name')) {
        const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        process.stdout.write(`\x1b[H\x1b[2J${title}, every ${intervalMs / 1000}s: ${at}\n\n`);
      } else if (last !== undefined && last !== '' && format !== 'json' && format !== 'yaml') {
        process.stdout.write('\n');
      }
      process.stdout.write(out);
      last = out;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Adds `-y, --yes` to a command that asks before it destroys something. */
export function withYesOption(cmd: Command): Command {
  return cmd.option('-y, --yes', 'do not ask for confirmation (needed when stdin is no terminal)');
}

/**
 * Asks `question [y/N]` on the terminal before a destructive action. `--yes` skips it. Without a
 * terminal on stdin (scripts, CI) and without --yes, refuses with a usage error (exit 2) so
 * nothing happens that nobody confirmed; `action` names it in that line (`delete volume x`). Any answer but y/yes ends the command (exit 1).
 */
export async function confirm(cmd: Command, action: string, question: string): Promise<void> {
  if (cmd.opts<{ yes?: boolean }>().yes === true) return;
  if (process.stdin.isTTY !== true) {
    throw new CliError(
      `refusing to ${action} without confirmation (stdin is not a terminal): pass --yes`,
      ExitCode.USAGE,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const answer = await new Promise<string>((resolve) => {
    rl.on('SIGINT', () => resolve(''));
    rl.on('close', () => resolve(''));
    rl.question(`${question} [y/N] `, resolve);
  });
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new CliError('not confirmed: nothing was changed', ExitCode.FAILURE);
  }
}
