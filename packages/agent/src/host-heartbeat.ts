import type { MetaClient } from '@ballast/meta-client';
import type { EngineReport } from './engine-reports.js';
import { errorText, type AgentLogger } from './logger.js';

/** What meta's leader knows of a Docker host (GET /v1/hosts/:id). */
export interface HostLiveness {
  id: string;
  lastHeartbeatAt: number | null;
  silentMs: number;
  alive: boolean;
  attachedVolumes: string[];
}

export interface HostHeartbeatOptions {
  client: MetaClient;
  host: string;
  /** Default 3 s; meta presumes a host dead after 30 s of silence by default. */
  intervalMs?: number;
  logger: AgentLogger;
  /** Engines that are not plainly serving, sent with every beat (meta keeps the last list). */
  engines?: () => EngineReport[];
}

/**
 * Tells meta's leader that this host's agent is alive, every few seconds, so that another host
 * can take this host's volumes over only when it is really gone (and so that refusals can say
 * whether the holder is alive). The sequence number lets the leader ignore a reordered
 * heartbeat. Failures are logged once per outage, not per beat. Each beat also carries the
 * state of the engines that failed, are being reopened or were reopened lately (D22), so that
 * `ballast volume inspect` can say what happened and what the agent does next.
 */
export class HostHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private sequence = 0;
  private inFlight: Promise<void> | undefined;
  private failing = false;
  private stopped = false;
  /** Heartbeats meta accepted, and ones that failed (tests, status). */
  readonly counts = { sent: 0, failed: 0 };

  constructor(private readonly options: HostHeartbeatOptions) {}

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    const intervalMs = this.options.intervalMs ?? 3_000;
    this.beat();
    this.timer = setInterval(() => this.beat(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** A beat now, outside the interval (an engine failed or was reopened); the interval goes on. */
  nudge(): void {
    if (this.timer !== undefined) this.beat();
  }

  private beat(): void {
    // One at a time: a slow leader must not pile heartbeats up.
    if (this.inFlight !== undefined || this.stopped) return;
    const { client, host, logger } = this.options;
    this.sequence += 1;
    const engines = this.options.engines?.() ?? [];
    this.inFlight = client
      .post(
        `/v1/hosts/${encodeURIComponent(host)}/heartbeat`,
        { sequence: this.sequence, ...(engines.length > 0 ? { engines } : {}) },
        {
          timeoutMs: 10_000,
        },
      )
      .then(
        () => {
          this.counts.sent += 1;
          if (this.failing) logger.info({ host }, 'host heartbeats reach meta again');
          this.failing = false;
        },
        (err: unknown) => {
          this.counts.failed += 1;
          if (!this.failing) {
            logger.warn({ host, err: errorText(err) }, 'host heartbeat to meta failed');
          }
          this.failing = true;
        },
      )
      .finally(() => (this.inFlight = undefined));
  }
}
