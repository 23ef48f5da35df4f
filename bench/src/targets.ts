import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
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
 * A server process that prints a JSON line with `"ready":true` on stdout once it serves an NBD
 * export on `socket`. Its pid and any `nodePids` it reports count as server CPU.
 */
class ReadyLineServerTarget implements Target {
  #child: ChildProcess | undefined;
  #extraPids: number[] = [];
  /** The server's ready line. */
  ready: Record<string, unknown> = {};
  constructor(
    readonly name: string,
    readonly replicas: number,
    private readonly socket: string,
    private readonly argv: string[],
    /** Node options for the server process and the storage nodes it starts. */
    private readonly nodeOptions: string[] = [],
  ) {}
  async start(): Promise<void> {
    const child = spawn(process.execPath, [...this.nodeOptions, ...this.argv], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, BALLAST_BENCH_NODE_ARGS: this.nodeOptions.join(' ') },
    });
    this.#child = child;
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer): void => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.includes('"ready":true'));
        if (line) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve(JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>);
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`${this.name} exited with ${code} before ready: ${out}`)),
      );
    });
    this.ready = ready;
    this.#extraPids = Array.isArray(ready.nodePids) ? (ready.nodePids as number[]) : [];
  }
  /** Sends a signal to the server process. */
  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }
  fioTarget(): string[] {
    return nbdFioTarget(this.socket);
  }
  serverPids(): number[] {
    return [...(this.#child?.pid ? [this.#child.pid] : []), ...this.#extraPids];
  }
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

/**
 * Ballast's NBD server (packages/nbd) serving a plain file: the cost of Ballast's own NBD layer,
 * before any replication. Runs in its own process, as the agent will.
 */
export class BallastNbdFileTarget extends ReadyLineServerTarget {
  constructor(file: string, socket: string, serveCli: string, nodeOptions: string[] = []) {
    super(
      'ballast-nbd-file',
      1,
      socket,
      [serveCli, '--socket', socket, '--file', file],
      nodeOptions,
    );
  }
}

/**
 * A Ballast volume: the replicating engine behind the NBD server, with `replicas` storage-node
 * processes on this machine talking the TCP data plane (packages/engine/bench/serve.ts).
 */
export class BallastVolumeTarget extends ReadyLineServerTarget {
  constructor(
    replicas: number,
    sizeBytes: number,
    socket: string,
    dir: string,
    serveJs: string,
    nodeOptions: string[] = [],
    inProcessNode = false,
    /** More arguments for serve.js, and what the target's name gets for them. */
    extra: { args: string[]; nameSuffix: string } = { args: [], nameSuffix: '' },
  ) {
    super(
      `ballast-volume-r${replicas}${inProcessNode ? '-inproc' : ''}${extra.nameSuffix}`,
      replicas,
      socket,
      [
        serveJs,
        '--socket',
        socket,
        '--start-nodes',
        String(replicas),
        '--replicas',
        String(replicas),
        '--size',
        String(sizeBytes),
        '--dir',
        dir,
        ...(inProcessNode ? ['--in-process-node'] : []),
        ...extra.args,
      ],
      nodeOptions,
    );
  }
}

/**
 * A Ballast volume through the product itself: `ballast dev up` (1 meta member, storage nodes,
 * `ballastd agent`), `ballast volume create` and `ballast volume attach`, then fio on the agent's
 * NBD socket. With `embedded` the agent runs one storage node in its own process
 * (`--embed-node`) and its engine reaches that replica without a socket; the other replicas are
 * separate `ballastd node` processes. Server CPU = every process of the cluster.
 */
export class BallastAgentTarget implements Target {
  readonly name: string;
  #uri: string | undefined;
  #pids: number[] = [];
  constructor(
    readonly replicas: number,
    private readonly sizeBytes: number,
    private readonly dir: string,
    private readonly ballastJs: string,
    private readonly embedded: boolean,
  ) {
    this.name = `ballast-agent-r${replicas}${embedded ? '-embedded' : ''}`;
  }
  async start(): Promise<void> {
    const cluster = ['--cluster', `${this.dir}/cluster.json`];
    const nodes = this.embedded ? this.replicas - 1 : this.replicas;
    this.#ballast([
      'dev',
      'up',
      '--dir',
      this.dir,
      '--meta',
      '1',
      '--nodes',
      String(nodes),
      '--agent',
      ...(this.embedded ? ['--embed-node'] : []),
      '--plugin-socket',
      `${this.dir}/plugin.sock`,
    ]);
    const file = JSON.parse(this.#ballast(['dev', 'status', '--dir', this.dir, '--json'])) as {
      meta: Array<{ pid: number }>;
      nodes: Array<{ pid: number }>;
      agents: Array<{ pid: number }>;
    };
    this.#pids = [...file.meta, ...file.nodes, ...file.agents].map((p) => p.pid);
    this.#ballast([
      'volume',
      'create',
      'bench',
      '--size',
      String(this.sizeBytes),
      '--replicas',
      String(this.replicas),
      ...cluster,
    ]);
    this.#uri = this.#ballast(['volume', 'attach', 'bench', ...cluster]).trim();
  }
  fioTarget(): string[] {
    return ['--ioengine=nbd', `--uri=${this.#uri}`];
  }
  serverPids(): number[] {
    return this.#pids;
  }
  async stop(): Promise<void> {
    this.#ballast(['volume', 'detach', 'bench', '--cluster', `${this.dir}/cluster.json`]);
    this.#ballast(['dev', 'down', '--dir', this.dir]);
  }
  #ballast(args: string[]): string {
    return execFileSync(process.execPath, [this.ballastJs, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  }
}
