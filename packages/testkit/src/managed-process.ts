import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';

export interface ManagedProcessOptions {
  /** Short id used in logs and by `ballast dev kill ID`, e.g. `m1`, `n2`, `agent`. */
  id: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended here; it survives restarts, so a failure shows the whole history. */
  logFile: string;
  /** Detached processes outlive this one (`ballast dev up`); others die with it. */
  detached?: boolean;
  /** Looks at each log line (parsed as JSON when it is) and returns a value once the process is ready. */
  readyWhen?: (line: string, json: Record<string, unknown> | undefined) => unknown;
  readyTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Whatever ends this process (test failure, timeout, SIGTERM from the runner), its children go
  // too: CI must never find leftover ballastd processes.
  process.on('exit', () => {
    for (const p of live) p.killNow();
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const p of live) p.killNow();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15));
    });
  }
}

/**
 * A real child process under test control: start and wait until ready, SIGKILL, SIGSTOP/SIGCONT,
 * restart with the same arguments, graceful stop. Output goes to a log file rather than a pipe so
 * that a paused or detached process can never block on a full pipe.
 */
export class ManagedProcess {
  readonly options: ManagedProcessOptions;
  #child: ChildProcess | undefined;
  #exit: Promise<ExitStatus> | undefined;
  #paused = false;
  #readyInfo: unknown;
  #adoptedPid: number | undefined;

  constructor(options: ManagedProcessOptions) {
    this.options = options;
  }

  get id(): string {
    return this.options.id;
  }

  get pid(): number | undefined {
    return this.#child?.pid ?? this.#adoptedPid;
  }

  get running(): boolean {
    if (this.#child) return this.#child.exitCode === null && this.#child.signalCode === null;
    if (this.#adoptedPid !== undefined) return isAlive(this.#adoptedPid);
    return false;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** What `readyWhen` returned for the latest start. */
  get readyInfo(): unknown {
    return this.#readyInfo;
  }

  /** Takes over a detached process started earlier (by another `ballast dev` invocation). */
  adopt(pid: number): void {
    this.#adoptedPid = pid;
  }

  async start(): Promise<unknown> {
    if (this.running) throw new Error(`${this.id} is already running (pid ${this.pid})`);
    const logStart = fileSize(this.options.logFile);
    const fd = openSync(this.options.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.options.command, this.options.args, {
        cwd: this.options.cwd,
        env: this.options.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: this.options.detached ?? false,
      });
    } finally {
      closeSync(fd);
    }
    this.#child = child;
    this.#adoptedPid = undefined;
    this.#paused = false;
    this.#exit = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
      });
      child.once('error', () => {
        live.delete(this);
        resolve({ code: null, signal: null });
      });
    });
    if (this.options.detached) {
      child.unref();
    } else {
      installExitHook();
      live.add(this);
    }
    if (!this.options.readyWhen) return undefined;
    this.#readyInfo = await this.#waitReady(logStart);
    return this.#readyInfo;
  }

  async #waitReady(fromOffset: number): Promise<unknown> {
    const timeoutMs = this.options.readyTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let offset = fromOffset;
    let partial = '';
    let exited: ExitStatus | undefined;
    void this.#exit?.then((s) => (exited = s));
    for (;;) {
      const { text, next } = readFrom(this.options.logFile, offset);
      offset = next;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        let json: Record<string, unknown> | undefined;
        if (line.startsWith('{')) {
          try {
            json = JSON.parse(line) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
        }
        const info = this.options.readyWhen!(line, json);
        if (info !== undefined && info !== false) return info;
      }
      if (exited) {
        throw new Error(
          `${this.id} exited (code ${exited.code}, signal ${exited.signal}) before it was ready; log:\n${this.tail(40)}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.id} not ready after ${timeoutMs} ms; log:\n${this.tail(40)}`);
      }
      await sleep(25);
    }
  }

  /** Resolves when the current incarnation exits. */
  async exited(): Promise<ExitStatus> {
    if (this.#exit) return this.#exit;
    if (this.#adoptedPid !== undefined) {
      while (isAlive(this.#adoptedPid)) await sleep(50);
      return { code: null, signal: null };
    }
    return { code: null, signal: null };
  }

  signal(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined || !this.running) throw new Error(`${this.id} is not running`);
    process.kill(pid, sig);
  }

  /** SIGKILL and wait for the exit. */
  async kill(): Promise<ExitStatus> {
    if (!this.running) return this.exited();
    if (this.#paused) this.resume();
    this.signal('SIGKILL');
    return this.exited();
  }

  pause(): void {
    this.signal('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    this.signal('SIGCONT');
    this.#paused = false;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<ExitStatus> {
    if (!this.running) return this.exited();
    if (this.#paused) this.resume();
    this.signal('SIGTERM');
    const timer = sleep(graceMs).then(() => 'timeout' as const);
    const result = await Promise.race([this.exited(), timer]);
    if (result === 'timeout') return this.kill();
    return result;
  }

  async restart(): Promise<unknown> {
    await this.kill();
    return this.start();
  }

  /** Synchronous best-effort SIGKILL (exit hooks). */
  killNow(): void {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** The last `lines` lines of this process's log. */
  tail(lines = 100): string {
    const size = fileSize(this.options.logFile);
    const from = Math.max(0, size - 256 * 1024);
    const { text } = readFrom(this.options.logFile, from);
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readFrom(path: string, offset: number): { text: string; next: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { text: '', next: offset };
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= offset) return { text: '', next: offset };
    const buf = Buffer.alloc(Math.min(size - offset, 4 * 1024 * 1024));
    const n = readSync(fd, buf, 0, buf.length, offset);
    return { text: buf.toString('utf8', 0, n), next: offset + n };
  } finally {
    closeSync(fd);
  }
}

/** True when `pid` exists and is not a zombie (an orphan whose reaper is slow still counts as dead). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 30_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}
