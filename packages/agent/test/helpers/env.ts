import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AgentLogger } from '../../src/index.js';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A fresh temp directory removed when the test ends (after everything mounted in it is gone). */
export function tempDir(t: Teardown, prefix = 'ballast-agent-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(async () => {
    await cleanUpUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

export function captureLogger(): { logger: AgentLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (obj: object, msg: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return {
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program asynchronously (the NBD servers under test may live in this process). */
export function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {
      // The program exited without reading its input.
    });
    // A program may exit without reading its input (EPIPE): not an error of the test's.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Waits until `condition()` holds, polling; throws after timeoutMs. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface Leftovers {
  mounts: string[];
  loops: string[];
  processes: string[];
}

/** Everything on the system that refers to paths under `dir`: mounts, loop devices, processes. */
export async function leftoversUnder(dir: string): Promise<Leftovers> {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${dir}/`));
  const losetup = await run('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE']);
  const loops =
    losetup.stdout.trim() === ''
      ? []
      : (
          JSON.parse(losetup.stdout) as {
            loopdevices: Array<{ name: string; 'back-file': string }>;
          }
        ).loopdevices
          .filter((d) => (d['back-file'] ?? '').startsWith(`${dir}/`))
          .map((d) => `${d.name} on ${d['back-file']}`);
  const processes: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    let state: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      continue;
    }
    if (state !== 'Z' && cmdline.includes(`${dir}/`)) processes.push(`${entry}: ${cmdline.trim()}`);
  }
  return { mounts, loops, processes };
}

/**
 * Last-resort cleanup for a test dir: detach loop devices, unmount (deepest first, lazily if
 * needed), kill processes. Tests assert there is nothing left before this runs; this only
 * keeps a failed test from leaking into the next ones. Loop devices go first: once the FUSE
 * mount behind one is lazily unmounted its backing file reads as a bare `/nbd`, no longer under
 * `dir`, and it would stay attached for good (detaching one a filesystem still uses only marks
 * it to go with that unmount).
 */
export async function cleanUpUnder(dir: string): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const left = await leftoversUnder(dir);
    if (left.mounts.length + left.loops.length + left.processes.length === 0) return;
    for (const loop of left.loops) await run('losetup', ['-d', loop.split(' ')[0]!]);
    for (const mount of left.mounts.sort((a, b) => b.length - a.length)) {
      const result = await run('umount', [mount]);
      if (result.code !== 0) await run('umount', ['-l', mount]);
    }
    for (const proc of left.processes) {
      try {
        process.kill(Number(proc.split(':')[0]), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A raw HTTP/1.1 client over a unix socket, sending exactly what Docker sends (POST, no
 * Content-Type, a Go json.Encoder body with a trailing newline). One connection carries many
 * requests (keep-alive), which is what Docker's client does.
 */
export class RawHttpClient {
  private readonly socket: net.Socket;
  private buffer = '';
  private waiting: ((reply: HttpReply) => void) | undefined;
  private closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.pump();
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static connect(socketPath: string): Promise<RawHttpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      socket.once('connect', () => resolve(new RawHttpClient(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a raw request (bytes as given) and resolves with the next response. */
  sendRaw(raw: string): Promise<HttpReply> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(raw);
    });
  }

  post(endpoint: string, body: string, extraHeaders = ''): Promise<HttpReply> {
    return this.sendRaw(
      `POST ${endpoint} HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\n` +
        `Accept: application/vnd.docker.plugins.v1.2+json\r\n${extraHeaders}` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  /** Docker's encoding: json.Encoder output ends with a newline. */
  call(endpoint: string, body?: unknown): Promise<HttpReply> {
    return this.post(endpoint, body === undefined ? '' : `${JSON.stringify(body)}\n`);
  }

  close(): void {
    this.socket.destroy();
  }

  private pump(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0 || this.waiting === undefined) return;
    const head = this.buffer.slice(0, end).split('\r\n');
    const status = Number(head[0]!.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) {
      const at = line.indexOf(':');
      headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
    }
    const length = Number(headers['content-length'] ?? '0');
    if (Buffer.byteLength(this.buffer.slice(end + 4)) < length) return;
    const body = this.buffer.slice(end + 4, end + 4 + length);
    this.buffer = this.buffer.slice(end + 4 + length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting({ status, headers, body });
  }
}

export function needsRoot(t: { fail(msg: string): void }): boolean {
  if (
    process.getuid?.() !== 0 ||
    !fs.existsSync('/dev/fuse') ||
    !fs.existsSync('/dev/loop-control')
  ) {
    t.fail('these tests need root, /dev/fuse and loop devices');
    return false;
  }
  return true;
}

export interface AgentProcess {
  child: ChildProcess;
  ready: Record<string, unknown>;
  stderr: () => string;
}

const AGENT_CLI = new URL('../../src/agent-cli.js', import.meta.url).pathname;

/** Starts agent-cli.js as a child process and waits for its ready line. */
export async function startAgentProcess(
  args: string[],
  timeoutMs = 30_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentProcess> {
  const child = spawn(process.execPath, [AGENT_CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready: ${stderr}`)), timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line !== undefined) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${code}): ${stderr}`));
    });
  });
  return { child, ready, stderr: () => stderr };
}

export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}
