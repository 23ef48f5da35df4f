import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BallastError } from '@ballast/common';
import { readJsonFile, writeFileAtomic } from '../atomic-file.js';
import { SILENT_LOGGER, type AgentLogger } from '../logger.js';
import { findProcesses, processAlive, processArgv, sleep, terminate } from '../system.js';
import { volumeSocketPath } from '../socket-path.js';
import type { UpstreamTarget } from './reconnecting-device.js';

const RELAY_MAIN = fileURLToPath(new URL('./relay-main.js', import.meta.url));

export interface RelayInfo {
  pid: number;
  socketPath: string;
}

export interface RelayManagerOptions {
  runDir: string;
  /** How long the relay holds requests while the agent's export is away. */
  holdMs: number;
  startTimeoutMs: number;
  logger?: AgentLogger;
}

/**
 * Starts, finds and stops the per-volume relay processes (relay-main.ts). Paths are fixed per
 * volume under <runDir>/relay, so a restarted agent finds its relays again without any state.
 */
export class RelayManager {
  private readonly logger: AgentLogger;

  constructor(private readonly options: RelayManagerOptions) {
    this.logger = options.logger ?? SILENT_LOGGER;
  }

  private dir(): string {
    return path.join(this.options.runDir, 'relay');
  }

  socketPath(volume: string): string {
    return volumeSocketPath(this.dir(), volume);
  }

  private pidFile(volume: string): string {
    return path.join(this.dir(), `${volume}.pid`);
  }

  private targetFile(volume: string): string {
    return path.join(this.dir(), `${volume}.target.json`);
  }

  /** Points the relay (running or about to start) at the agent's export for this volume. */
  async setTarget(volume: string, target: UpstreamTarget): Promise<void> {
    await fsp.mkdir(this.dir(), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.targetFile(volume), `${JSON.stringify(target)}\n`);
  }

  async start(volume: string, target: UpstreamTarget): Promise<RelayInfo> {
    await this.setTarget(volume, target);
    const pidFile = this.pidFile(volume);
    await fsp.rm(pidFile, { force: true });
    const logFd = fs.openSync(path.join(this.dir(), `${volume}.log`), 'a', 0o600);
    let exited: string | undefined;
    // Its own session: the relay must outlive the agent (that is its whole point).
    const child = spawn(
      process.execPath,
      [
        RELAY_MAIN,
        '--listen',
        this.socketPath(volume),
        '--target-file',
        this.targetFile(volume),
        '--export',
        volume,
        '--pidfile',
        pidFile,
        '--hold-ms',
        String(this.options.holdMs),
      ],
      { detached: true, stdio: ['ignore', logFd, logFd] },
    );
    fs.closeSync(logFd);
    child.on('error', (err) => (exited = `cannot start relay: ${err.message}`));
    child.on('exit', (code, signal) => (exited = `relay exited (${code ?? signal})`));
    child.unref();
    const deadline = Date.now() + this.options.startTimeoutMs;
    for (;;) {
      const info = await this.find(volume);
      if (info !== undefined && info.pid === child.pid) return info;
      if (exited !== undefined || Date.now() > deadline) {
        if (child.pid !== undefined) await terminate(child.pid, 1_000);
        const log = await fsp
          .readFile(path.join(this.dir(), `${volume}.log`), 'utf8')
          .then((t) => t.slice(-1500).trim())
          .catch(() => '');
        throw new BallastError(
          'IO',
          `${exited ?? `relay for ${volume} not ready after ${this.options.startTimeoutMs} ms`}` +
            (log ? `: ${log}` : ''),
          { volume },
        );
      }
      await sleep(10);
    }
  }

  /** The running relay of a volume, if its pidfile names a live relay process for it. */
  async find(volume: string): Promise<RelayInfo | undefined> {
    let pid: number | undefined;
    try {
      const parsed = (await readJsonFile(this.pidFile(volume))) as { pid?: unknown } | undefined;
      pid = typeof parsed?.pid === 'number' ? parsed.pid : undefined;
    } catch {
      pid = undefined;
    }
    if (pid === undefined || !(await this.isRelay(pid, volume))) return undefined;
    return { pid, socketPath: this.socketPath(volume) };
  }

  async stop(volume: string): Promise<void> {
    const pids = new Set<number>();
    const info = await this.find(volume);
    if (info !== undefined) pids.add(info.pid);
    else {
      // No pidfile: a crash between spawn and pidfile may have left a relay running.
      for (const p of await this.running()) if (p.volume === volume) pids.add(p.pid);
    }
    for (const pid of pids) await terminate(pid, 10_000);
    for (const suffix of ['.pid', '.target.json']) {
      await fsp.rm(path.join(this.dir(), `${volume}${suffix}`), { force: true });
    }
    await fsp.rm(this.socketPath(volume), { force: true });
    if (pids.size > 0) this.logger.info({ volume }, 'relay stopped');
  }

  /** Every relay process of this run dir, with the volume it serves. */
  async running(): Promise<Array<{ pid: number; volume: string }>> {
    const prefix = `${this.dir()}/`;
    const procs = await findProcesses(
      (argv) => argv[1] === RELAY_MAIN && argv.some((a) => a.startsWith(prefix)),
    );
    const out: Array<{ pid: number; volume: string }> = [];
    for (const proc of procs) {
      const at = proc.argv.indexOf('--export');
      const volume = at >= 0 ? proc.argv[at + 1] : undefined;
      if (volume !== undefined && (await processAlive(proc.pid)))
        out.push({ pid: proc.pid, volume });
    }
    return out;
  }

  private async isRelay(pid: number, volume: string): Promise<boolean> {
    if (!(await processAlive(pid))) return false;
    const argv = await processArgv(pid);
    return argv !== undefined && argv[1] === RELAY_MAIN && argv.includes(this.socketPath(volume));
  }
}
