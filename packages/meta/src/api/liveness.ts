import type { ClusterMapReader, NodeRecord, ReplicaUsage } from '../map/index.js';
import { MAX_NODES, MiB, diskFullBelowBytes } from '../map/index.js';
import type { MetaStore } from '../store/index.js';
import type { EngineReportBody, EngineView } from './schemas.js';

/**
 * Node liveness on the leader. Heartbeats only update this in-memory table; the map changes
 * (through the log) only when a node's state flips: up -> down when it falls silent, down -> up
 * when it is heard again. A new leader starts with an empty table and counts silence from the
 * moment it became leader, so a leader change never marks the whole cluster down.
 */
export class NodeLiveness {
  private readonly seen = new Map<string, { atMs: number; sequence: number }>();
  /** The last usage figures each node sent: the map keeps only changes worth a log entry. */
  private readonly usage = new Map<string, { usedBytes: number; availableBytes?: number }>();

  /**
   * Records a heartbeat. Returns false for a reordered one (a lower sequence than already seen
   * from that node's process), which must not be acted upon.
   */
  record(nodeId: string, atMs: number, sequence?: number): boolean {
    const previous = this.seen.get(nodeId);
    if (previous && sequence !== undefined && sequence < previous.sequence) return false;
    if (!previous && this.seen.size >= MAX_NODES) return false;
    this.seen.set(nodeId, { atMs, sequence: sequence ?? previous?.sequence ?? 0 });
    return true;
  }

  lastSeenMs(nodeId: string): number | undefined {
    return this.seen.get(nodeId)?.atMs;
  }

  /** Keeps a heartbeat's usage figures (call after `record` accepted it). */
  recordUsage(nodeId: string, figures: { usedBytes: number; availableBytes?: number }): void {
    if (this.seen.has(nodeId)) this.usage.set(nodeId, figures);
  }

  /** The usage figures of the node's last heartbeat, fresher than the map's. */
  lastUsage(nodeId: string): { usedBytes: number; availableBytes?: number } | undefined {
    return this.usage.get(nodeId);
  }

  /** Every id heard from (since the last clear). */
  ids(): IterableIterator<string> {
    return this.seen.keys();
  }

  forget(nodeId: string): void {
    this.seen.delete(nodeId);
    this.usage.delete(nodeId);
  }

  /** Call when this member becomes leader (or stops being it): old observations do not carry over. */
  clear(): void {
    this.seen.clear();
    this.usage.clear();
  }
}

/** An engine report as the leader keeps it: the agent's ages turned into the leader's clock. */
export type EngineReport = Omit<EngineView, 'host'> & { volumeId: string };

/**
 * Heartbeats of the Docker hosts' agents, and what each agent last said of the engines of its
 * attached volumes that are not plainly serving (D22: failed, being reopened, reopened a short
 * while ago). Leader memory only, like node liveness: a new leader knows of a failing engine
 * from the agent's next heartbeat, a few seconds later.
 */
export class HostLiveness extends NodeLiveness {
  private readonly engines = new Map<string, Map<string, EngineReport>>();

  /**
   * Keeps a heartbeat's engine reports in place of the host's earlier ones (call after `record`
   * accepted the heartbeat); an empty list means every engine of the host serves.
   */
  recordEngines(hostId: string, reports: readonly EngineReport[]): void {
    if (this.lastSeenMs(hostId) === undefined) return;
    if (reports.length === 0) this.engines.delete(hostId);
    else this.engines.set(hostId, new Map(reports.map((r) => [r.volumeId, r])));
  }

  /** Everything the host's agent last reported, by volume id. */
  engineReports(hostId: string): readonly EngineReport[] {
    const reports = this.engines.get(hostId);
    return reports === undefined ? [] : [...reports.values()];
  }

  /** What the host's agent last reported of the volume's engine, if anything. */
  engineReport(hostId: string, volumeId: string): EngineReport | undefined {
    return this.engines.get(hostId)?.get(volumeId);
  }

  override forget(hostId: string): void {
    super.forget(hostId);
    this.engines.delete(hostId);
  }

  override clear(): void {
    super.clear();
    this.engines.clear();
  }
}

/**
 * A heartbeat's engine reports in the leader's clock, or the reason they are refused (the
 * schema checks each field; this checks that they make sense together). Pure.
 */
export function engineReportsOf(
  body: readonly EngineReportBody[],
  nowMs: number,
): { ok: true; reports: EngineReport[] } | { ok: false; message: string } {
  const seen = new Set<string>();
  const reports: EngineReport[] = [];
  for (const [i, r] of body.entries()) {
    const where = `engines[${i}] (volume ${r.volumeId})`;
    if (seen.has(r.volumeId)) return { ok: false, message: `${where}: reported twice` };
    seen.add(r.volumeId);
    const recovered = r.state === 'recovered';
    if (
      recovered !== (r.recoveredAgoMs !== undefined) ||
      recovered !== (r.recoveredEpoch !== undefined)
    ) {
      return {
        ok: false,
        message: `${where}: recoveredAgoMs and recoveredEpoch go with state recovered, and only with it`,
      };
    }
    if (r.recoveredEpoch !== undefined && r.recoveredEpoch <= r.epoch) {
      return { ok: false, message: `${where}: reopened at an epoch not after the failed one` };
    }
    if (r.nextAttemptInMs !== undefined && r.state !== 'failed') {
      return { ok: false, message: `${where}: nextAttemptInMs goes with state failed only` };
    }
    if (r.recoveredAgoMs !== undefined && r.recoveredAgoMs > r.failedAgoMs) {
      return { ok: false, message: `${where}: recovered before it failed` };
    }
    reports.push({
      volumeId: r.volumeId,
      state: r.state,
      epoch: r.epoch,
      reason: r.reason,
      failedAt: Math.max(0, nowMs - r.failedAgoMs),
      attempts: r.attempts,
      nextAttemptAt: r.nextAttemptInMs === undefined ? null : nowMs + r.nextAttemptInMs,
      lastError: r.lastError ?? null,
      recoveredAt: r.recoveredAgoMs === undefined ? null : Math.max(0, nowMs - r.recoveredAgoMs),
      recoveredEpoch: r.recoveredEpoch ?? null,
      reportedAt: nowMs,
    });
  }
  return { ok: true, reports };
}

export interface DownTransition {
  nodeId: string;
  silentForMs: number;
  reason: string;
}

/**
 * The nodes to mark down now: every node the map has as reachable whose last heartbeat (or the
 * start of this leadership, whichever is later) is more than `timeoutMs` ago. Pure: the leader
 * calls it on its ticks and proposes `setNodeState down` for each result.
 */
export function nodesToMarkDown(
  map: ClusterMapReader,
  lastSeenMs: (nodeId: string) => number | undefined,
  nowMs: number,
  leaderSinceMs: number,
  timeoutMs: number,
): DownTransition[] {
  const out: DownTransition[] = [];
  for (const node of map.listNodes()) {
    if (node.state === 'removed' || !node.reachable) continue;
    const since = Math.max(lastSeenMs(node.id) ?? leaderSinceMs, leaderSinceMs);
    const silentForMs = nowMs - since;
    if (silentForMs > timeoutMs) {
      out.push({
        nodeId: node.id,
        silentForMs,
        reason: `no heartbeat for ${(silentForMs / 1000).toFixed(1)}s (timeout ${(timeoutMs / 1000).toFixed(1)}s)`,
      });
    }
  }
  return out;
}

/** Free space changes constantly; only changes worth a log entry become commands. */
export const CAPACITY_REPORT_MIN_CHANGE_BYTES = 64 * MiB;

/**
 * Whether a heartbeat's capacity figures differ enough from the map's to propose
 * reportNodeCapacity: any change of capacity, or used bytes moving by at least 64 MiB or 1% of
 * capacity, whichever is larger.
 */
export function capacityReportNeeded(
  node: NodeRecord,
  capacityBytes: number,
  usedBytes: number,
  availableBytes?: number,
): boolean {
  if (node.capacityBytes !== capacityBytes) return true;
  const threshold = Math.max(CAPACITY_REPORT_MIN_CHANGE_BYTES, Math.floor(capacityBytes / 100));
  if (availableBytes !== undefined) {
    if (node.availableBytes === undefined) return true;
    // Crossing the full line is news whatever the size of the change.
    const line = diskFullBelowBytes(node);
    if (node.availableBytes < line !== availableBytes < line) return true;
    if (Math.abs(node.availableBytes - availableBytes) >= threshold) return true;
  }
  return Math.abs(node.usedBytes - usedBytes) >= threshold;
}

/** Replica usage changes smaller than this are not worth a log entry... */
export const REPLICA_USAGE_MIN_CHANGE_BYTES = 64 * MiB;
/** ...nor are changes smaller than this percentage of the volume's size. */
export const REPLICA_USAGE_MIN_CHANGE_PERCENT = 5;

/**
 * Of the replica used bytes a node's heartbeat carries, the ones worth proposing
 * reportReplicaUsage for: replicas the map lists on the node whose figure is unknown (a new
 * replica, or a map from before nodes reported usage) or moved by at least max(64 MiB, 5% of
 * the volume's size). The threshold keeps heartbeats (every 3 s) out of the log while data is
 * written, and still tracks what rebalance cares about: at a 10-point margin, a 5% error on a
 * volume is noise. Figures above the volume's size (file-system preallocation can make a file
 * occupy more than its length for a while) are clipped to it. Replicas the map does not list
 * on the node are left out: the node's view is older than the map's.
 */
export function replicaUsageReports(
  map: ClusterMapReader,
  nodeId: string,
  reported: readonly ReplicaUsage[],
): ReplicaUsage[] {
  const out: ReplicaUsage[] = [];
  for (const entry of reported) {
    const volume = map.getVolume(entry.volumeId);
    const replica = volume?.replicas.find((r) => r.nodeId === nodeId);
    if (!volume || !replica) continue;
    const usedBytes = Math.min(entry.usedBytes, volume.sizeBytes);
    const threshold = Math.max(
      REPLICA_USAGE_MIN_CHANGE_BYTES,
      Math.floor((volume.sizeBytes * REPLICA_USAGE_MIN_CHANGE_PERCENT) / 100),
    );
    if (replica.usedBytes !== undefined && Math.abs(replica.usedBytes - usedBytes) < threshold) {
      continue;
    }
    out.push({ volumeId: volume.id, usedBytes });
  }
  return out;
}

/**
 * One liveness tick on the leader: proposes `down` for every silent node. Returns how many
 * transitions were committed. Does nothing on a member that is not the leader.
 */
export async function sweepLiveness(
  store: MetaStore,
  liveness: NodeLiveness,
  nowMs: number,
  timeoutMs: number,
): Promise<number> {
  const leaderSince = store.leaderSinceMs();
  if (!store.isLeader() || leaderSince === null) return 0;
  let committed = 0;
  for (const t of nodesToMarkDown(
    store.map,
    (id) => liveness.lastSeenMs(id),
    nowMs,
    leaderSince,
    timeoutMs,
  )) {
    const result = await store.propose({
      type: 'setNodeState',
      at: nowMs,
      nodeId: t.nodeId,
      action: 'down',
      reason: t.reason,
    });
    if (result.ok && result.changed) committed++;
  }
  return committed;
}
