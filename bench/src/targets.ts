import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { waitFor } from '@ballast/testkit';

/**
 * Something fio can drive: a plain file, or an NBD export (nbdkit, Ballast's NBD server, a Ballast
 * volume through the agent). `fioTarget` gives the fio options that select it.
 */
export interface Target {
  name: string;
  /** Replica count, for replica-normalised ratios. */
  replicas: number;
  start(): Promise<void>;
  fioTarget(): string[];
  /** Processes whose CPU time counts as "server" for this target. */
  serverPids(): number[];
  stop(): Promise<void>;
}

export class FileTarget implements Target {
  readonly name = 'file';
  readonly replicas = 1;
  constructor(private readonly path: string) {}
  async start(): Promise<void> {}
  fioTarget(): string[] {
    return [`--filename=${this.path}`, '--ioengine=libaio', '--direct=1'];
  }
  serverPids(): number[] {
    return [];
  }
  async stop(): Promise<void> {}
}

/** `nbdkit file` serving a local file over a unix socket: the baseline B every ratio refers to. */
export class NbdkitTarget implements Target {
  readonly name = 'nbdkit';
  readonly replicas = 1;
  #child: ChildProcess | undefined;
  constructor(
    private readonly file: string,
    private readonly socket: string,
  ) {}
  async start(): Promise<void> {
    this.#child = spawn(
      'nbdkit',
      ['--foreground', '--unix', this.socket, 'file', `file=${this.file}`],
      { stdio: 'ignore' },
    );
    await waitFor('nbdkit socket', () => existsSync(this.socket), { timeoutMs: 10_000 });
  }
  fioTarget(): string[] {
    return nbdFioTarget(this.socket);
  }
  serverPids(): number[] {
    return this.#child?.pid ? [this.#child.pid] : [];
  }
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

export function nbdFioTarget(socket: string, exportName = ''): string[] {
  return ['--ioengine=nbd', `--uri=nbd+unix:///${exportName}?socket=${socket}`];
}

/**
 * Ballast's NBD server (packages/nbd) serving a plain file: the cost of Ballast's own NBD layer,
 * before any replication. Runs in its own process, as the agent will.
 */
export class BallastNbdFileTarget implements Target {
  readonly name = 'ballast-nbd-file';
  readonly replicas = 1;
  #child: ChildProcess | undefined;
  constructor(
    private readonly file: string,
    private readonly socket: string,
    private readonly serveCli: string,
  ) {}
  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [this.serveCli, '--socket', this.socket, '--file', this.file],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (out.includes('"ready":true')) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`NBD server exited with ${code} before ready: ${out}`)),
      );
    });
  }
  fioTarget(): string[] {
    return nbdFioTarget(this.socket);
  }
  serverPids(): number[] {
    return this.#child?.pid ? [this.#child.pid] : [];
  }
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}
