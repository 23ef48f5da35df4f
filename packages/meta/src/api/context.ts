import { BallastError } from '@ballast/common';
import {
  schedulableBytes,
  type ApplyValue,
  type Command,
  type CommandDraft,
  type NodeRecord,
  type VolumeRecord,
} from '../map/index.js';
import type { MetaStore } from '../store/index.js';
import type { VolumeOutlook } from '../control/executor.js';
import type { HostLiveness, NodeLiveness } from './liveness.js';
import type { NodeView } from './schemas.js';

/** What every route plugin gets. */
export interface ApiContext {
  store: MetaStore;
  /** Wall clock of the leader; commands carry its readings, the map never reads a clock. */
  clock: () => number;
  /** New ids for nodes, volumes and tasks; never reused. */
  newId: (kind: 'node' | 'volume' | 'task' | 'snapshot') => string;
  liveness: NodeLiveness;
  /** Heartbeats of the Docker hosts' agents and their engine reports (leader memory). */
  hostLiveness: HostLiveness;
  /** A host silent this long is presumed dead: its volumes may be taken over. */
  hostTimeoutMs: number;
  defaultReplicas: number;
  /** What the leader's control loops last planned for a volume; undefined off the leader. */
  outlook: (volumeId: string) => VolumeOutlook | undefined;
}

/** Answers that only the leader has (its memory: liveness, the control loops' plan). */
export function requireLeader(ctx: ApiContext, what: string): void {
  if (ctx.store.isLeader()) return;
  const leader = ctx.store.leaderHint();
  throw new BallastError(
    'UNAVAILABLE',
    leader ? `this member is not the leader; ${what} at ${leader.api}` : 'no leader at the moment',
    { leader },
  );
}

/**
 * Stamps the time on a command, puts it through the log, and returns what it produced. A refused
 * command becomes a BallastError with the state machine's code, so the API answers with it.
 */
export async function commit(ctx: ApiContext, draft: CommandDraft): Promise<ApplyValue> {
  const command = { ...draft, at: ctx.clock() } as Command;
  const result = await ctx.store.propose(command);
  if (!result.ok)
    throw new BallastError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

export function requireNode(ctx: ApiContext, id: string): NodeRecord {
  const node = ctx.store.map.getNode(id);
  if (!node) throw new BallastError('NOT_FOUND', `node ${id} does not exist`, { nodeId: id });
  return node;
}

export function requireVolume(ctx: ApiContext, name: string): VolumeRecord {
  const volume = ctx.store.map.getVolumeByName(name);
  if (!volume) throw new BallastError('NOT_FOUND', `volume ${name} does not exist`, { name });
  return volume;
}

/**
 * A node as the API shows it. On the leader, used and free bytes come from the node's last
 * heartbeat (the map records only changes worth a log entry, so its figures lag by up to 64 MiB
 * or 1% of capacity) and `silentMs` says how long the node has been quiet.
 */
export function nodeView(ctx: ApiContext, node: NodeRecord): NodeView {
  const map = ctx.store.map;
  const leaderSince = ctx.store.isLeader() ? ctx.store.leaderSinceMs() : null;
  const lastSeen = ctx.liveness.lastSeenMs(node.id);
  const live = leaderSince !== null ? ctx.liveness.lastUsage(node.id) : undefined;
  const silentMs =
    leaderSince === null || node.state === 'removed'
      ? null
      : Math.max(0, ctx.clock() - Math.max(lastSeen ?? leaderSince, leaderSince));
  return {
    ...node,
    ...(live !== undefined && node.reachable
      ? {
          usedBytes: Math.min(live.usedBytes, node.capacityBytes),
          ...(live.availableBytes !== undefined
            ? { availableBytes: Math.min(live.availableBytes, node.capacityBytes) }
            : {}),
        }
      : {}),
    provisionedBytes: map.provisionedBytes(node.id),
    schedulableBytes: schedulableBytes(node, map.settings),
    replicaCount: map.volumesOnNode(node.id).length,
    lastHeartbeatAt: lastSeen ?? null,
    silentMs,
  };
}
