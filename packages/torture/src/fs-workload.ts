import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const writerScript = fileURLToPath(new URL('./fs-writer.js', import.meta.url));
const verifyScript = fileURLToPath(new URL('./fs-verify.js', import.meta.url));

/** One Docker volume plugin call over the agent's plugin socket, as dockerd makes it. */
export function pluginCall(
  socketPath: string,
  path: string,
  body: unknown,
  timeoutMs = 120_000,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body) + '\n';
    const req = request(
      {
        socketPath,
        path,
        method: 'POST',
        headers: { 'content-length': Buffer.byteLength(payload) },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            const parsed = JSON.parse(text) as Record<string, unknown>;
            if (typeof parsed.Err === 'string' && parsed.Err !== '') {
              reject(new Error(`${path}: ${parsed.Err}`));
            } else resolve(parsed);
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface FsCheck {
  checked: number;
  missing: string[];
  wrong: Array<{ name: string; md5: string; expected: string[] }>;
  errors: Array<{ name: string; error: string }>;
}

/**
 * Files with fsync through the Docker volume plugin: a volume is created and mounted through the
 * agent's plugin socket (as dockerd does), a child process writes files into the mount and makes
 * each durable, and `verify()` checks, in another child, that every file made durable holds one
 * of the contents it may hold (md5).
 */
export class FsWorkload {
  mountpoint = '';
  durable = 0;
  writeErrors = 0;
  readonly errorKinds = new Map<string, number>();
  /** name -> contents it may hold now (the last durable one, plus any attempted since). */
  private readonly acceptable = new Map<string, Set<string>>();
  private readonly madeDurable = new Set<string>();
  private child: ChildProcess | null = null;

  constructor(
    private readonly o: {
      pluginSocket: string;
      volume: string;
      sizeBytes: number;
      replicas: number;
      seed: number;
      log: (event: Record<string, unknown>) => void;
    },
  ) {}

  async mount(): Promise<void> {
    await pluginCall(this.o.pluginSocket, '/VolumeDriver.Create', {
      Name: this.o.volume,
      Opts: { size: String(this.o.sizeBytes), replicas: String(this.o.replicas) },
    });
    const mounted = await pluginCall(this.o.pluginSocket, '/VolumeDriver.Mount', {
      Name: this.o.volume,
      ID: 'torture-fs',
    });
    this.mountpoint = String(mounted.Mountpoint);
  }

  start(): void {
    const child = spawn(process.execPath, [writerScript, this.mountpoint, String(this.o.seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BALLAST_PARENT_PID: String(process.pid) },
    });
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    child.stderr!.on('data', (d: Buffer) =>
      this.o.log({ event: 'fs-writer-stderr', text: d.toString('utf8').slice(0, 500) }),
    );
  }

  private onLine(line: string): void {
    let e: { attempt?: string; name?: string; md5?: string; error?: string };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      return;
    }
    if (e.attempt !== undefined && e.md5 !== undefined) {
      const set = this.acceptable.get(e.attempt) ?? new Set<string>();
      set.add(e.md5);
      this.acceptable.set(e.attempt, set);
    } else if (e.error !== undefined) {
      this.writeErrors += 1;
      this.errorKinds.set(e.error, (this.errorKinds.get(e.error) ?? 0) + 1);
    } else if (e.name !== undefined && e.md5 !== undefined) {
      this.durable += 1;
      this.madeDurable.add(e.name);
      this.acceptable.set(e.name, new Set([e.md5]));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  /** Checks every file made durable so far; null when the check itself did not finish in time. */
  async verify(timeoutMs = 120_000): Promise<FsCheck | null> {
    const expected = [...this.madeDurable].map((name) => ({
      name,
      md5s: [...(this.acceptable.get(name) ?? [])],
    }));
    const child = spawn(process.execPath, [verifyScript, this.mountpoint], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stdin!.end(JSON.stringify(expected));
    const done = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(false);
      }, timeoutMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!done) return null;
    try {
      return JSON.parse(out) as FsCheck;
    } catch {
      return null;
    }
  }

  async unmount(): Promise<void> {
    await pluginCall(this.o.pluginSocket, '/VolumeDriver.Unmount', {
      Name: this.o.volume,
      ID: 'torture-fs',
    });
  }
}
