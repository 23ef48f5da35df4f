import { readFileSync } from 'node:fs';
import {
  clusterEntries,
  devProcess,
  writeClusterFile,
  type ClusterFile,
  type ProcessEntry,
} from 'ballast';
import { isAlive, sleep } from '@ballast/testkit';

export type ProcessState = 'running' | 'killed' | 'paused';

export interface Crash {
  id: string;
  atMs: number;
  /** The last lines of its log. */
  tail: string;
}

/**
 * The torture run's view of every process of the cluster: what state each should be in (the
 * nemeses kill and pause them on purpose), and crashes: a process that died while it should
 * have been running is a crash, recorded with its log and started again so the run goes on.
 */
export class Supervisor {
  private readonly states = new Map<string, ProcessState>();
  readonly crashes: Crash[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = new Set<string>();

  constructor(
    private readonly file: ClusterFile,
    private readonly now: () => number,
    private readonly log: (event: Record<string, unknown>) => void,
  ) {
    for (const e of clusterEntries(file)) this.states.set(e.id, 'running');
  }

  entry(id: string): ProcessEntry {
    const e = clusterEntries(this.file).find((x) => x.id === id);
    if (e === undefined) throw new Error(`no process ${id}`);
    return e;
  }

  ids(role?: ProcessEntry['role']): string[] {
    return clusterEntries(this.file)
      .filter((e) => role === undefined || e.role === role)
      .map((e) => e.id);
  }

  state(id: string): ProcessState {
    return this.states.get(id) ?? 'running';
  }

  /** Watches for crashes every second until stop(). */
  watch(): void {
    this.timer = setInterval(() => void this.check(), 1_000);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async check(): Promise<void> {
    for (const e of clusterEntries(this.file)) {
      if (this.busy.has(e.id) || this.state(e.id) !== 'running' || isAlive(e.pid)) continue;
      this.busy.add(e.id);
      try {
        const tail = tailOf(e.logFile, 60);
        this.crashes.push({ id: e.id, atMs: this.now(), tail });
        this.log({ event: 'crash', id: e.id, pid: e.pid });
        await this.startProcess(e);
      } catch (err) {
        this.log({ event: 'restart-failed', id: e.id, error: (err as Error).message });
      } finally {
        this.busy.delete(e.id);
      }
    }
  }

  /** SIGKILL, waiting for the exit (bounded). */
  async kill(id: string): Promise<void> {
    const e = this.entry(id);
    this.busy.add(id);
    try {
      this.states.set(id, 'killed');
      try {
        process.kill(e.pid, 'SIGCONT');
        process.kill(e.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      const deadline = Date.now() + 10_000;
      while (isAlive(e.pid) && Date.now() < deadline) await sleep(20);
    } finally {
      this.busy.delete(id);
    }
  }

  async start(id: string): Promise<void> {
    const e = this.entry(id);
    this.busy.add(id);
    try {
      await this.startProcess(e);
      this.states.set(id, 'running');
    } finally {
      this.busy.delete(id);
    }
  }

  pause(id: string): void {
    process.kill(this.entry(id).pid, 'SIGSTOP');
    this.states.set(id, 'paused');
  }

  resume(id: string): void {
    process.kill(this.entry(id).pid, 'SIGCONT');
    this.states.set(id, 'running');
  }

  /** Everything running again (the end of a run heals first). */
  async reviveAll(): Promise<void> {
    for (const e of clusterEntries(this.file)) {
      const s = this.state(e.id);
      if (s === 'paused') this.resume(e.id);
      else if (s === 'killed' || !isAlive(e.pid)) await this.start(e.id);
    }
  }

  private async startProcess(e: ProcessEntry): Promise<void> {
    const proc = devProcess(this.file, e);
    // A restart of a node that fsck'd or replayed a lot may be slow on a loaded machine.
    await proc.start();
    e.pid = proc.pid!;
    writeClusterFile(this.file);
  }
}

export function tailOf(path: string, lines: number): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}
