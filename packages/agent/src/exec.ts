import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BallastError } from '@ballast/common';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  /** Killed (SIGKILL) after this long; every external command the agent runs has a bound. */
  timeoutMs: number;
  input?: string;
  /** Exit codes that count as success for runChecked (default [0]). */
  okCodes?: number[];
}

/** Output kept per stream; tools the agent runs print little, so this only guards memory. */
const MAX_CAPTURE_BYTES = 256 * 1024;

/**
 * Runs a program asynchronously and collects its output. Never spawnSync: the NBD server that the
 * program may be talking to (nbdfuse, losetup reading through FUSE, mkfs) can live in this
 * process and must keep serving while the program runs.
 */
export function runCommand(
  command: string,
  args: string[],
  options: CommandOptions,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      // Its own process group, so a timeout kills the whole tree (a shell and what it started),
      // not just the direct child while a grandchild holds the output pipes open.
      child = spawn(command, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
        detached: true,
      });
    } catch (err) {
      reject(commandError(command, args, `cannot start: ${(err as Error).message}`, err));
      return;
    }
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_CAPTURE_BYTES) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_CAPTURE_BYTES) stderr += d;
    });
    let settled = false;
    const finish = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      action();
    };
    const timer = setTimeout(() => {
      killGroup(child);
      finish(() =>
        reject(
          new BallastError(
            'TIMEOUT',
            `${describe(command, args)} did not finish within ${options.timeoutMs} ms` +
              (stderr.trim() ? `: ${stderr.trim()}` : ''),
            { command, args },
          ),
        ),
      );
    }, options.timeoutMs);
    let drainTimer: NodeJS.Timeout | undefined;
    child.on('error', (err) => {
      finish(() => reject(commandError(command, args, `cannot start: ${err.message}`, err)));
    });
    child.on('exit', (code, signal) => {
      // 'close' follows once the output pipes are drained; a grandchild that keeps them open
      // must not hold the result back for long.
      drainTimer = setTimeout(() => finish(() => resolve({ code, signal, stdout, stderr })), 1_000);
    });
    child.on('close', (code, signal) => {
      finish(() => resolve({ code, signal, stdout, stderr }));
    });
    child.stdin.on('error', () => {
      // The program may exit without reading its input; that is not an error of ours.
    });
    child.stdin.end(options.input ?? '');
  });
}

function killGroup(child: ChildProcessWithoutNullStreams): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Like runCommand, but an exit code outside okCodes is an IO error carrying the stderr. */
export async function runChecked(
  command: string,
  args: string[],
  options: CommandOptions,
): Promise<CommandResult> {
  const result = await runCommand(command, args, options);
  const ok = options.okCodes ?? [0];
  if (result.code === null || !ok.includes(result.code)) {
    const why = result.code === null ? `killed by ${result.signal}` : `exit ${result.code}`;
    const text = (result.stderr.trim() || result.stdout.trim()).slice(0, 2000);
    throw commandError(command, args, `${why}${text ? `: ${text}` : ''}`);
  }
  return result;
}

function describe(command: string, args: string[]): string {
  return [command, ...args].join(' ');
}

function commandError(command: string, args: string[], why: string, cause?: unknown): BallastError {
  return new BallastError(
    'IO',
    `${describe(command, args)} failed (${why})`,
    { command, args },
    cause,
  );
}

/** True when `name` is an executable on PATH (or an existing absolute path). */
export async function commandExists(name: string): Promise<boolean> {
  const { access, constants } = await import('node:fs/promises');
  const dirs = name.includes('/') ? [''] : (process.env.PATH ?? '').split(':');
  for (const dir of dirs) {
    try {
      await access(dir === '' ? name : `${dir}/${name}`, constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}
