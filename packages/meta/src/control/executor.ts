import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Command } from '../map/index.js';
import type { NodeLiveness } from '../api/liveness.js';
import type { MetaStore } from '../store/index.js';
import { planControl, type BlockedWork, type ControlPlan } from './planner.js';

/** What the executor logs through (pino's shape). */
export interface ControlLogger {
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ControlLoopOptions {
  store: MetaStore;
  /** The leader's heartbeat table: nodes silent for half the timeout get no new replicas. */
  liveness?: NodeLiveness;
  nodeTimeoutMs?: number;
  /** Commands proposed per tick at most (default 32). */
  maxCommandsPerTick?: number;
  log?: ControlLogger;
  metricsRegistry?: Registry;
}

export interface ControlTickReport {
  plan: ControlPlan;
  accepted: number;
  refused: number;
  plannerMs: number;
}

/** What the control loops last planned for one volume: the work under way and the work that waits. */
export interface VolumeOutlook {
  /** When the leader planned it (its clock). */
  plannedAtMs: number;
  /** Commands proposed for the volume in that tick (each one step, e.g. adding a replica). */
  doing: Array<{ loop: string; why: string }>;
  /** Work that cannot proceed now: why, until when, and what the operator can do. */
  waiting: Array<Pick<BlockedWork, 'loop' | 'nodeId' | 'reason' | 'untilMs' | 'hint'>>;
}

export const DEFAULT_CONTROL_COMMANDS_PER_TICK = 32;
/** The same blocked work is logged again after this long at the earliest. */
const BLOCKED_LOG_INTERVAL_MS = 60_000;
const MAX_BLOCKED_LOG_KEYS = 1000;

/**
 * Runs the control loops on the leader: each tick plans from the map (planControl) and proposes
 * the commands one after the other, each through the log like any other. Only the leader acts;
 * a tick on a follower does nothing. Ticks do not overlap (a tick still running is skipped).
 */
export class ControlLoop {
  private running = false;
  private readonly blockedLoggedAt = new Map<string, number>();
  /** The last plan, by volume id (leader only): what `GET /v1/volumes/:name/explanation` says. */
  private lastOutlook: { atMs: number; byVolume: Map<string, VolumeOutlook> } | null = null;
  private readonly metrics:
    | {
        commands: Counter<'loop' | 'outcome'>;
        blocked: Gauge<'loop'>;
        degraded: Gauge;
        moves: Gauge;
        planSeconds: Histogram;
      }
    | undefined;

  constructor(private readonly options: ControlLoopOptions) {
    const registry = options.metricsRegistry;
    this.metrics = registry && {
      commands: new Counter({
        name: 'ballast_meta_control_commands_total',
        help: 'Commands the control loops proposed, by loop and outcome',
        labelNames: ['loop', 'outcome'] as const,
        registers: [registry],
      }),
      blocked: new Gauge({
        name: 'ballast_meta_control_blocked',
        help: 'Work the control loops cannot do now (no placement, waiting for a grace period or a move slot), by loop',
        labelNames: ['loop'] as const,
        registers: [registry],
      }),
      degraded: new Gauge({
        name: 'ballast_meta_control_degraded_volumes',
        help: 'Volumes below their desired count of in-sync replicas on live nodes',
        registers: [registry],
      }),
      moves: new Gauge({
        name: 'ballast_meta_control_moves_in_flight',
        help: 'Replica moves (drain, rebalance) in flight',
        registers: [registry],
      }),
      planSeconds: new Histogram({
        name: 'ballast_meta_control_plan_seconds',
        help: 'Time to plan one control tick',
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
        registers: [registry],
      }),
    };
  }

  /** Nodes up in the map that the leader has not heard from for half the timeout. */
  private suspects(nowMs: number): Set<string> {
    const out = new Set<string>();
    const { liveness, nodeTimeoutMs, store } = this.options;
    const leaderSince = store.leaderSinceMs();
    if (!liveness || nodeTimeoutMs === undefined || leaderSince === null) return out;
    for (const node of store.map.listNodes()) {
      if (node.state === 'removed' || !node.reachable) continue;
      const since = Math.max(liveness.lastSeenMs(node.id) ?? leaderSince, leaderSince);
      if (nowMs - since > nodeTimeoutMs / 2) out.add(node.id);
    }
    return out;
  }

  async tick(nowMs: number): Promise<ControlTickReport | null> {
    const { store } = this.options;
    if (this.running || !store.isLeader()) return null;
    this.running = true;
    try {
      const started = performance.now();
      const plan = planControl({
        map: store.map,
        nowMs,
        maxCommands: this.options.maxCommandsPerTick ?? DEFAULT_CONTROL_COMMANDS_PER_TICK,
        suspectNodeIds: this.suspects(nowMs),
        ...(this.options.liveness
          ? { lastHeardMs: (id: string) => this.options.liveness!.lastSeenMs(id) }
          : {}),
      });
      const plannerMs = performance.now() - started;
      this.observe(plan, plannerMs, nowMs);
      let accepted = 0;
      let refused = 0;
      for (const planned of plan.commands) {
        if (!store.isLeader()) break;
        const command = { ...planned.command, at: nowMs } as Command;
        let outcome: 'accepted' | 'refused' | 'error';
        try {
          const result = await store.propose(command);
          if (result.ok) {
            outcome = 'accepted';
            accepted++;
            this.options.log?.info({ loop: planned.loop, command: command.type }, planned.why);
          } else {
            outcome = 'refused';
            refused++;
            // The map moved on since the plan; the next tick plans from the new state.
            this.options.log?.debug(
              { loop: planned.loop, command, error: result.error },
              'control command refused',
            );
          }
        } catch (err) {
          outcome = 'error';
          this.options.log?.warn({ err, loop: planned.loop }, 'control command not committed');
          this.metrics?.commands.inc({ loop: planned.loop, outcome });
          break;
        }
        this.metrics?.commands.inc({ loop: planned.loop, outcome });
      }
      return { plan, accepted, refused, plannerMs };
    } finally {
      this.running = false;
    }
  }

  /**
   * What the last plan of this leader said about a volume: undefined when this member is not the
   * leader or has not planned yet; an outlook with nothing in it when the loops had nothing to do
   * for the volume.
   */
  outlook(volumeId: string): VolumeOutlook | undefined {
    if (!this.options.store.isLeader() || this.lastOutlook === null) return undefined;
    return (
      this.lastOutlook.byVolume.get(volumeId) ?? {
        plannedAtMs: this.lastOutlook.atMs,
        doing: [],
        waiting: [],
      }
    );
  }

  private recordOutlook(plan: ControlPlan, nowMs: number): void {
    const byVolume = new Map<string, VolumeOutlook>();
    const entry = (volumeId: string): VolumeOutlook => {
      let o = byVolume.get(volumeId);
      if (o === undefined) {
        o = { plannedAtMs: nowMs, doing: [], waiting: [] };
        byVolume.set(volumeId, o);
      }
      return o;
    };
    for (const c of plan.commands) {
      if (c.volumeId !== undefined) entry(c.volumeId).doing.push({ loop: c.loop, why: c.why });
    }
    for (const b of plan.blocked) {
      if (b.volumeId === undefined) continue;
      entry(b.volumeId).waiting.push({
        loop: b.loop,
        reason: b.reason,
        ...(b.nodeId !== undefined ? { nodeId: b.nodeId } : {}),
        ...(b.untilMs !== undefined ? { untilMs: b.untilMs } : {}),
        ...(b.hint !== undefined ? { hint: b.hint } : {}),
      });
    }
    this.lastOutlook = { atMs: nowMs, byVolume };
  }

  private observe(plan: ControlPlan, plannerMs: number, nowMs: number): void {
    this.recordOutlook(plan, nowMs);
    if (this.metrics) {
      this.metrics.planSeconds.observe(plannerMs / 1000);
      this.metrics.degraded.set(plan.degradedVolumes);
      this.metrics.moves.set(plan.movesInFlight);
      const perLoop = new Map<string, number>();
      for (const b of plan.blocked) perLoop.set(b.loop, (perLoop.get(b.loop) ?? 0) + 1);
      for (const loop of ['failure', 'tasks', 'repair', 'drain', 'trim', 'rebalance']) {
        this.metrics.blocked.set({ loop }, perLoop.get(loop) ?? 0);
      }
    }
    for (const b of plan.blocked) this.logBlocked(b, nowMs);
  }

  private logBlocked(b: BlockedWork, nowMs: number): void {
    const key = `${b.loop}/${b.volumeId ?? ''}/${b.nodeId ?? ''}`;
    const last = this.blockedLoggedAt.get(key);
    if (last !== undefined && nowMs - last < BLOCKED_LOG_INTERVAL_MS) return;
    if (this.blockedLoggedAt.size >= MAX_BLOCKED_LOG_KEYS) this.blockedLoggedAt.clear();
    this.blockedLoggedAt.set(key, nowMs);
    this.options.log?.info(
      { loop: b.loop, volumeId: b.volumeId, nodeId: b.nodeId },
      b.untilMs === undefined
        ? b.reason
        : `${b.reason}; until ${new Date(b.untilMs).toISOString()}`,
    );
  }
}
