import {
  MAX_REASON_LENGTH,
  compare,
  isLive,
  schedulableBytes,
  zoneOf,
  type ClusterMapReader,
  type ClusterMapSnapshot,
  type CommandDraft,
  type NodeRecord,
  type Settings,
  type StaleReplica,
  type TaskRecord,
  type VolumeRecord,
} from '../map/index.js';
import { formatSize } from '@ballast/common';
import { placeReplicas, replicaRefusal } from '../placement/index.js';

/**
 * The leader's control loops as one pure function: from the map, the settings in it, what the
 * leader observes of node liveness and the time, it computes the commands to propose now. It
 * keeps no state between calls: everything it needs to continue a piece of work (a move's origin,
 * a drain, a rebuild's attempts) is in the map, so a new leader carries on where the old one
 * stopped. Every command is checked again by the map when applied, so a plan made from a map
 * that has moved on is at worst refused.
 *
 * Loops, in priority order (a volume gets at most one command per plan):
 * 1. failure: replicas of unattached volumes on down nodes leave the in-sync set
 *    (markReplicaLost), so the volume's state says what is really there.
 * 2. tasks: a running rebuild task without progress for REBUILD_STALL_MS is failed (a copier
 *    that hung or died without saying so); a rebuilding replica without an open rebuild task gets
 *    a new one (a node reported failure, or it stalled), at most MAX_REBUILD_ATTEMPTS times; then
 *    it is removed and placed again elsewhere.
 * 3. repair and drain: a volume short of its desired count of in-sync-or-rebuilding replicas on
 *    live, non-draining nodes gets one: on a returning node first (delta rebuild), then replacing
 *    a replica lost longer than the grace period, then moving one off a draining node (bounded by
 *    maxConcurrentMoves), then a plain addition. A lost replica within its grace period is waited
 *    for.
 * 4. trim: once enough replicas are in sync, what they replace goes: stale records, replicas on
 *    down or draining nodes, the origins of moves, then any excess (add-then-remove: never below
 *    the desired count).
 * 5. rebalance (unless switched off): when a schedulable node's used share is more than the margin
 *    away from the mean, move a replica from the fullest node to where placement puts it (among
 *    nodes that stay within the margin), only when that lowers sum(used^2 / schedulable) (so
 *    moves cannot go back and forth).
 *
 * Used, not provisioned: volumes are thin, so what fills a disk is what was written. A node's
 * used load is the sum of its replicas' used bytes as their nodes report them (replicaUsedBytes:
 * a replica not reported yet, or still rebuilding, counts as its volume's largest known figure,
 * else 0), minus what moves in flight take away. Room for a new replica (placement, repair,
 * the target of a move) is still judged by provisioned bytes against overProvisionPercent, so
 * capacity admission stays as safe as before; only the rebalance objective uses used bytes.
 */

/**
 * The bytes one replica counts for rebalance. An in-sync replica its node reported: that figure.
 * A rebuilding replica, or one not reported yet: the volume's largest known figure, because once
 * in sync it holds what the others hold (a rebuild's own figure only says how far the copy got,
 * and counting it would let the planner pile moves onto a node whose rebuilds are under way).
 * A volume nobody reported: 0. Nodes report every replica they hold at their next heartbeat
 * (3 s) and a never-reported figure always counts as a change, so this is a volume just created
 * (thin: nothing written, 0 is the truth) or one whose nodes are not reporting (down, or older
 * software). Counting its full size instead would bring back the provisioned bias for exactly
 * the volumes that are new and empty.
 */
export function replicaUsedBytes(volume: VolumeRecord, nodeId: string): number {
  const replica = volume.replicas.find((r) => r.nodeId === nodeId);
  if (!replica) return 0;
  return replicaLoad(replica, largestKnownUsage(volume));
}

function largestKnownUsage(volume: VolumeRecord): number {
  let known = 0;
  for (const r of volume.replicas)
    if (r.usedBytes !== undefined) known = Math.max(known, r.usedBytes);
  return known;
}

function replicaLoad(replica: VolumeRecord['replicas'][number], volumeKnownBytes: number): number {
  if (replica.role === 'in-sync' && replica.usedBytes !== undefined) return replica.usedBytes;
  return Math.max(replica.usedBytes ?? 0, volumeKnownBytes);
}

/** Used load of every node holding replicas (see replicaUsedBytes), in one pass over volumes. */
export function usedLoads(map: ClusterMapReader): Map<string, number> {
  const loads = new Map<string, number>();
  for (const v of map.listVolumes()) {
    const known = largestKnownUsage(v);
    for (const r of v.replicas) {
      loads.set(r.nodeId, (loads.get(r.nodeId) ?? 0) + replicaLoad(r, known));
    }
  }
  return loads;
}

/** Rebuilds a node receives at once (repairs, moves): the rest wait for a later tick. */
export const MAX_REBUILDS_PER_NODE = 4;
/** Rebuild attempts of one replica before it is removed and placed again. */
export const MAX_REBUILD_ATTEMPTS = 3;
/**
 * A running rebuild whose task has not moved for this long is failed (and retried). Copiers
 * report after every chunk (nodes at most once a second, engines every 2 s), so ten minutes of
 * silence is no slow copy but a stuck or dead one. Tasks still pending (never started, e.g.
 * queued behind other rebuilds on the node) are not timed out.
 */
export const REBUILD_STALL_MS = 10 * 60_000;
/**
 * A snapshot still `creating` this long after it was asked for has failed: the engine or a node
 * that should have taken it is gone (its replicas then drop it, as for any failed cut). A cut
 * takes a flush and a pause, and nodes take a detached one as soon as they see it.
 */
export const SNAPSHOT_CUT_TIMEOUT_MS = 60_000;
/** Volumes examined per origin node when looking for a rebalance move. */
export const REBALANCE_CANDIDATES_PER_NODE = 64;
/** Origin nodes tried per plan when looking for a rebalance move. */
export const REBALANCE_ORIGINS_PER_PLAN = 8;
function clip(text: string): string {
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 3)}...`;
}

/** Blocked work reported per plan. */
export const MAX_BLOCKED_REPORTED = 100;

export type ControlLoopName = 'failure' | 'tasks' | 'repair' | 'drain' | 'trim' | 'rebalance';

export interface PlannedCommand {
  loop: ControlLoopName;
  command: CommandDraft;
  /** One sentence for the log. */
  why: string;
  /** The volume the command is for, when it is for one (what `volume inspect` explains). */
  volumeId?: string;
}

export interface BlockedWork {
  loop: ControlLoopName;
  volumeId?: string;
  nodeId?: string;
  /** What the loop waits for, as a sentence: what Ballast will do next. */
  reason: string;
  /** When the wait ends by itself (a grace period), on the map's clock. */
  untilMs?: number;
  /** What the operator can do about it, as a sentence naming the command. */
  hint?: string;
}

export interface ControlInput {
  map: ClusterMapReader;
  nowMs: number;
  /** Most commands to return; the executor proposes them in order. */
  maxCommands: number;
  /**
   * Nodes the map has as up but that the leader has not heard from for a while: they get no new
   * replicas (they may be about to be marked down).
   */
  suspectNodeIds?: ReadonlySet<string>;
  /**
   * When the leader last heard from a node (its clock, like the map's `at` times). A stale copy
   * is taken back for a delta rebuild only from a node heard from after the copy went stale: an
   * engine demotes a replica the moment its node dies, well before heartbeats time out, and
   * adding it straight back would only fail again. Absent: every up node counts as heard.
   */
  lastHeardMs?: (nodeId: string) => number | undefined;
}

export interface ControlPlan {
  commands: PlannedCommand[];
  /** Work that cannot proceed now, with the reason (bounded). */
  blocked: BlockedWork[];
  /** Volumes below their desired count of in-sync replicas on live nodes. */
  degradedVolumes: number;
  /** Moves (drain, rebalance) in flight before this plan. */
  movesInFlight: number;
  /** Used share of schedulable nodes (after moves in flight): min, mean, max. */
  share: { min: number; mean: number; max: number };
  /** Whether every schedulable node is within the rebalance margin of the mean. */
  balanced: boolean;
}

interface TaskIndex {
  openByVolume: Map<string, TaskRecord[]>;
  /** volume id -> node id -> finish times of its failed rebuilds there. */
  failedRebuilds: Map<string, Map<string, number[]>>;
  openRebuildsByTarget: Map<string, number>;
  /** Open moves whose origin still serves (a live member): what maxConcurrentMoves bounds. */
  movesInFlight: number;
  /** Used bytes leaving each node once the moves in flight finish. */
  leavingBytes: Map<string, number>;
}

function indexTasks(map: ClusterMapReader): TaskIndex {
  const index: TaskIndex = {
    openByVolume: new Map(),
    failedRebuilds: new Map(),
    openRebuildsByTarget: new Map(),
    movesInFlight: 0,
    leavingBytes: new Map(),
  };
  for (const task of map.listTasks()) {
    if (task.volumeId === null) continue;
    if (task.finishedAt !== null) {
      if (task.kind === 'rebuild' && task.state === 'failed' && task.nodeId !== null) {
        let byNode = index.failedRebuilds.get(task.volumeId);
        if (!byNode) index.failedRebuilds.set(task.volumeId, (byNode = new Map()));
        byNode.set(task.nodeId, [...(byNode.get(task.nodeId) ?? []), task.finishedAt]);
      }
      continue;
    }
    let list = index.openByVolume.get(task.volumeId);
    if (!list) index.openByVolume.set(task.volumeId, (list = []));
    list.push(task);
    if (task.kind === 'rebuild' && task.nodeId !== null) {
      index.openRebuildsByTarget.set(
        task.nodeId,
        (index.openRebuildsByTarget.get(task.nodeId) ?? 0) + 1,
      );
    }
    if (task.kind === 'move' && task.sourceNodeId !== null) {
      const volume = map.getVolume(task.volumeId);
      const origin = map.getNode(task.sourceNodeId);
      if (
        volume?.replicas.some((r) => r.nodeId === task.sourceNodeId) &&
        origin &&
        isLive(origin)
      ) {
        index.movesInFlight++;
        index.leavingBytes.set(
          origin.id,
          (index.leavingBytes.get(origin.id) ?? 0) + replicaUsedBytes(volume, origin.id),
        );
      }
    }
  }
  return index;
}

/**
 * The map as placement should see it during planning: replicas this plan adds already take
 * room on their nodes, so two decisions of one plan do not fill the same space twice.
 */
class ProjectedMap implements ClusterMapReader {
  readonly addedBytes = new Map<string, number>();
  constructor(private readonly map: ClusterMapReader) {}
  get revision(): number {
    return this.map.revision;
  }
  get appliedIndex(): number {
    return this.map.appliedIndex;
  }
  get settings(): Settings {
    return this.map.settings;
  }
  getNode(id: string): NodeRecord | undefined {
    return this.map.getNode(id);
  }
  getVolume(id: string): VolumeRecord | undefined {
    return this.map.getVolume(id);
  }
  getVolumeByName(name: string): VolumeRecord | undefined {
    return this.map.getVolumeByName(name);
  }
  getTask(id: string): TaskRecord | undefined {
    return this.map.getTask(id);
  }
  listNodes(): readonly NodeRecord[] {
    return this.map.listNodes();
  }
  listVolumes(): readonly VolumeRecord[] {
    return this.map.listVolumes();
  }
  listTasks(): readonly TaskRecord[] {
    return this.map.listTasks();
  }
  provisionedBytes(nodeId: string): number {
    return this.map.provisionedBytes(nodeId) + (this.addedBytes.get(nodeId) ?? 0);
  }
  volumesOnNode(nodeId: string): readonly string[] {
    return this.map.volumesOnNode(nodeId);
  }
  snapshot(): ClusterMapSnapshot {
    return this.map.snapshot();
  }
  add(nodeId: string, bytes: number): void {
    this.addedBytes.set(nodeId, (this.addedBytes.get(nodeId) ?? 0) + bytes);
  }
}

interface LostReplica {
  nodeId: string;
  /** When it was lost: the stale record's time, or when its node went down. */
  sinceMs: number;
  member: boolean;
}

interface Assessment {
  volume: VolumeRecord;
  /** In-sync replicas on live nodes that are not draining. */
  inSyncGood: string[];
  /** Rebuilding replicas on live nodes that are not draining. */
  rebuildingGood: string[];
  /** Members (either role) on live draining nodes. */
  leaving: string[];
  /** Members on nodes that are down (or gone), and stale records: their data is not serving. */
  lost: LostReplica[];
  deficit: number;
}

function assess(map: ClusterMapReader, volume: VolumeRecord): Assessment {
  const a: Assessment = {
    volume,
    inSyncGood: [],
    rebuildingGood: [],
    leaving: [],
    lost: [],
    deficit: 0,
  };
  for (const r of volume.replicas) {
    const node = map.getNode(r.nodeId);
    if (!node || !isLive(node)) {
      a.lost.push({ nodeId: r.nodeId, sinceMs: node?.stateSince ?? r.since, member: true });
    } else if (node.scheduling === 'draining') {
      a.leaving.push(r.nodeId);
    } else if (r.role === 'in-sync') {
      a.inSyncGood.push(r.nodeId);
    } else {
      a.rebuildingGood.push(r.nodeId);
    }
  }
  for (const s of volume.staleReplicas)
    a.lost.push({ nodeId: s.nodeId, sinceMs: s.since, member: false });
  a.deficit = volume.desiredReplicas - a.inSyncGood.length - a.rebuildingGood.length;
  return a;
}

/**
 * A volume with nothing to do: exactly its desired replicas, all in sync on up nodes, no stale
 * records, no unfinished task. Most volumes are settled most of the time, and this check
 * allocates nothing, so a plan over 10,000 volumes costs little when the cluster is calm.
 */
function isSettled(
  volume: VolumeRecord,
  upNodes: ReadonlySet<string>,
  openByVolume: ReadonlyMap<string, unknown>,
): boolean {
  if (volume.staleReplicas.length > 0 || volume.replicas.length !== volume.desiredReplicas) {
    return false;
  }
  for (const r of volume.replicas) {
    if (r.role !== 'in-sync' || !upNodes.has(r.nodeId)) return false;
  }
  return !openByVolume.has(volume.id);
}

function inSyncOn(volume: VolumeRecord, nodeId: string): boolean {
  return volume.replicas.some((r) => r.nodeId === nodeId && r.role === 'in-sync');
}

function distinctZones(map: ClusterMapReader, nodeIds: readonly string[]): number {
  const zones = new Set<string>();
  for (const id of nodeIds) {
    const node = map.getNode(id);
    if (node) zones.add(zoneOf(node));
  }
  return zones.size;
}

class PlanBuilder {
  readonly commands: PlannedCommand[] = [];
  readonly blocked: BlockedWork[] = [];
  /** Volumes that already have a command in this plan. */
  readonly touched = new Set<string>();
  constructor(private readonly max: number) {}
  get full(): boolean {
    return this.commands.length >= this.max;
  }
  add(loop: ControlLoopName, command: CommandDraft, why: string, volumeId?: string): void {
    if (this.full) return;
    this.commands.push({ loop, command, why, ...(volumeId !== undefined ? { volumeId } : {}) });
    if (volumeId !== undefined) this.touched.add(volumeId);
  }
  block(work: BlockedWork): void {
    if (this.blocked.length < MAX_BLOCKED_REPORTED) this.blocked.push(work);
  }
}

/**
 * What one plan works with: the input, the map as this plan's commands change it (`view`, the
 * rebuild counts, the used bytes added), the move budget, and the volumes not settled. The
 * loops below are functions over it, run in priority order by planControl.
 */
class PlanState {
  readonly map: ClusterMapReader;
  readonly nowMs: number;
  readonly settings: Settings;
  readonly suspect: ReadonlySet<string>;
  readonly tasks: TaskIndex;
  readonly view: ProjectedMap;
  readonly plan: PlanBuilder;
  readonly rebuildsOn: Map<string, number>;
  readonly loads: ReadonlyMap<string, number>;
  /** Used bytes this plan's additions will bring to each node (the view tracks provisioned). */
  readonly usedAdded = new Map<string, number>();
  readonly upNodes = new Set<string>();
  readonly assessments: Assessment[] = [];
  /** Volumes short of their desired count of good replicas, before this plan. */
  readonly degraded: number;
  moveBudget: number;
  /** Nodes that cannot take a rebuild now: suspect ones and those at their rebuild limit. */
  busy: string[];
  repairsPlanned = 0;

  constructor(private readonly input: ControlInput) {
    this.map = input.map;
    this.nowMs = input.nowMs;
    this.settings = input.map.settings;
    this.suspect = input.suspectNodeIds ?? new Set<string>();
    this.tasks = indexTasks(this.map);
    this.view = new ProjectedMap(this.map);
    this.plan = new PlanBuilder(Math.max(0, input.maxCommands));
    this.rebuildsOn = new Map(this.tasks.openRebuildsByTarget);
    this.moveBudget = this.settings.maxConcurrentMoves - this.tasks.movesInFlight;
    this.loads = usedLoads(this.map);
    for (const node of this.map.listNodes()) if (node.state === 'up') this.upNodes.add(node.id);
    for (const v of this.map.listVolumes()) {
      if (!this.settled(v)) this.assessments.push(assess(this.map, v));
    }
    let degraded = 0;
    for (const a of this.assessments) {
      if (a.inSyncGood.length + a.leaving.length < a.volume.desiredReplicas) degraded++;
    }
    this.degraded = degraded;
    this.busy = this.busyNodes();
  }

  readonly settled = (v: VolumeRecord): boolean =>
    isSettled(v, this.upNodes, this.tasks.openByVolume);

  heardSince(nodeId: string, sinceMs: number): boolean {
    if (this.input.lastHeardMs === undefined) return true;
    const heard = this.input.lastHeardMs(nodeId);
    return heard !== undefined && heard > sinceMs;
  }

  private busyNodes(): string[] {
    const out = [...this.suspect];
    for (const [id, n] of this.rebuildsOn) if (n >= MAX_REBUILDS_PER_NODE) out.push(id);
    return out;
  }

  addReplica(
    loop: ControlLoopName,
    volume: VolumeRecord,
    nodeId: string,
    replacing: string | undefined,
    why: string,
  ): void {
    this.plan.add(
      loop,
      {
        type: 'addReplica',
        volumeId: volume.id,
        nodeId,
        ...(replacing !== undefined ? { replacing } : {}),
      },
      why,
      volume.id,
    );
    this.view.add(nodeId, volume.sizeBytes);
    this.usedAdded.set(nodeId, (this.usedAdded.get(nodeId) ?? 0) + largestKnownUsage(volume));
    this.rebuildsOn.set(nodeId, (this.rebuildsOn.get(nodeId) ?? 0) + 1);
    if ((this.rebuildsOn.get(nodeId) ?? 0) >= MAX_REBUILDS_PER_NODE) this.busy = this.busyNodes();
  }

  /** Placement of one new replica of `volume`, the replica on `replacing` set aside. */
  place(a: Assessment, replacing: string | undefined) {
    const busy = this.busy;
    const members = a.volume.replicas.map((r) => r.nodeId);
    const exclude = new Set([...members, ...busy]);
    // Nodes where rebuilds of this volume kept failing are not tried again.
    for (const [nodeId, failures] of this.tasks.failedRebuilds.get(a.volume.id) ?? []) {
      if (failures.length >= MAX_REBUILD_ATTEMPTS) exclude.add(nodeId);
    }
    const existing = members.filter((id) => id !== replacing);
    const request = {
      count: 1,
      sizeBytes: a.volume.sizeBytes,
      nodeSelector: a.volume.constraints.nodeSelector,
      zoneSpread: a.volume.constraints.zoneSpread,
      preferHost: a.volume.attachment?.host,
      existingNodeIds: existing,
    };
    const decision = placeReplicas(this.view, { ...request, excludeNodeIds: [...exclude] });
    if (!decision.ok || busy.length === 0) return decision;
    // Busy nodes must not cost spread: when the nodes that would keep more zones are only busy
    // with other rebuilds, wait for one of them rather than settle for a worse zone.
    for (const id of busy) exclude.delete(id);
    for (const id of members) exclude.add(id);
    const unhurried = placeReplicas(this.view, { ...request, excludeNodeIds: [...exclude] });
    if (
      unhurried.ok &&
      distinctZones(this.map, [...existing, unhurried.nodeIds[0]!]) >
        distinctZones(this.map, [...existing, decision.nodeIds[0]!])
    ) {
      return {
        ok: false as const,
        missing: 1,
        reason: `waiting for a rebuild slot on a node that keeps ${a.volume.name} spread over more zones (the ones with room are busy)`,
      };
    }
    return decision;
  }
}

export function planControl(input: ControlInput): ControlPlan {
  const s = new PlanState(input);
  planFailures(s);
  planTasks(s);
  planRepairs(s);
  planDrainReports(s);
  planTrims(s);
  // 5. rebalance.
  const shares = projectedShares(s.map, s.suspect, s.loads, s.tasks.leavingBytes, s.usedAdded);
  const margin = s.settings.rebalanceMarginPercent / 100;
  const balanced =
    shares.nodes.length < 2 ||
    shares.nodes.every((n) => Math.abs(n.used / n.schedulable - shares.mean) <= margin);
  if (s.settings.rebalanceEnabled && !balanced && s.repairsPlanned === 0) {
    rebalance({
      map: s.map,
      view: s.view,
      plan: s.plan,
      settled: s.settled,
      shares,
      margin,
      moveBudget: s.moveBudget,
      busy: s.busy,
    });
  }

  const ratios = shares.nodes.map((n) => n.used / n.schedulable);
  return {
    commands: s.plan.commands,
    blocked: s.plan.blocked,
    degradedVolumes: s.degraded,
    movesInFlight: s.tasks.movesInFlight,
    share: {
      min: ratios.length > 0 ? Math.min(...ratios) : 0,
      mean: shares.mean,
      max: ratios.length > 0 ? Math.max(...ratios) : 0,
    },
    balanced,
  };
}

/** Loop 1, failure: replicas of idle volumes on down nodes leave the in-sync set. */
function planFailures(s: PlanState): void {
  const { plan, assessments } = s;
  // 1. failure: replicas of idle volumes on down nodes leave the in-sync set.
  for (const a of assessments) {
    if (plan.full) break;
    const v = a.volume;
    if (v.attachment !== null) continue;
    const inSync = v.replicas.filter((r) => r.role === 'in-sync').length;
    for (const lost of a.lost) {
      if (!lost.member) continue;
      const replica = v.replicas.find((r) => r.nodeId === lost.nodeId)!;
      if (replica.role === 'in-sync' && inSync <= 1) {
        plan.block({
          loop: 'failure',
          volumeId: v.id,
          nodeId: lost.nodeId,
          reason: `the only in-sync replica of ${v.name} is on ${lost.nodeId}, which is down; waiting for it to return`,
          hint: `start ${lost.nodeId} again: no other copy holds every write`,
        });
        continue;
      }
      plan.add(
        'failure',
        {
          type: 'markReplicaLost',
          volumeId: v.id,
          nodeId: lost.nodeId,
          epoch: v.epoch,
          reason: `node ${lost.nodeId} is down`,
        },
        `${v.name}: replica on down node ${lost.nodeId} is out of sync`,
        v.id,
      );
      break;
    }
  }
}

/** Loop 2, tasks: stalled rebuilds fail; rebuilding replicas without a rebuild get one. */
function planTasks(s: PlanState): void {
  const { map, nowMs, tasks, plan, assessments } = s;
  // 2. tasks: stalled rebuilds fail (the next plan retries them)...
  for (const list of tasks.openByVolume.values()) {
    for (const task of list) {
      if (plan.full) break;
      if (task.kind !== 'rebuild' || task.state !== 'running') continue;
      const silentMs = nowMs - task.updatedAt;
      if (silentMs <= REBUILD_STALL_MS) continue;
      const minutes = Math.floor(silentMs / 60_000);
      plan.add(
        'tasks',
        {
          type: 'finishTask',
          taskId: task.id,
          outcome: 'failed',
          message: `stalled: no progress for ${minutes} min`,
        },
        `rebuild task ${task.id} made no progress for ${minutes} min; failing it so it is retried`,
        task.volumeId ?? undefined,
      );
    }
  }
  // Snapshot cuts nobody finished fail (their replicas drop them).
  for (const v of map.listVolumes()) {
    if (plan.full) break;
    const stuck = (v.snapshots ?? []).find(
      (snap) => snap.state === 'creating' && nowMs - snap.createdAt > SNAPSHOT_CUT_TIMEOUT_MS,
    );
    if (stuck === undefined || plan.touched.has(v.id)) continue;
    const who =
      stuck.host !== null
        ? `the engine on ${stuck.host}`
        : (stuck.waitingFor ?? []).join(', ') || 'the nodes';
    plan.add(
      'tasks',
      {
        type: 'finishVolumeSnapshot',
        volumeId: v.id,
        snapshotId: stuck.id,
        epoch: stuck.epoch,
        ok: false,
        nodeIds: [],
        pauseMs: 0,
        reason: clip(
          `${who} did not take it within ${SNAPSHOT_CUT_TIMEOUT_MS / 1000} s; delete it and try again`,
        ),
      },
      `${v.name}: snapshot ${stuck.name} still creating after ${SNAPSHOT_CUT_TIMEOUT_MS / 1000} s; failing it`,
      v.id,
    );
  }
  // ...and rebuilding replicas whose rebuild ended without making them in sync get a new task.
  for (const a of assessments) {
    if (plan.full) break;
    const v = a.volume;
    // A clone being copied has no source for rebuilds yet: its first copy comes from the
    // snapshot (the node that makes it needs no task).
    if (plan.touched.has(v.id) || a.rebuildingGood.length === 0 || v.seed) continue;
    const open = tasks.openByVolume.get(v.id) ?? [];
    for (const nodeId of a.rebuildingGood) {
      if (open.some((t) => t.kind === 'rebuild' && t.nodeId === nodeId)) continue;
      const since = v.replicas.find((r) => r.nodeId === nodeId)!.since;
      const failures = (tasks.failedRebuilds.get(v.id)?.get(nodeId) ?? []).filter(
        (at) => at >= since,
      ).length;
      if (failures < MAX_REBUILD_ATTEMPTS) {
        const source =
          a.inSyncGood[0] ?? a.leaving[0] ?? v.replicas.find((r) => r.role === 'in-sync')?.nodeId;
        plan.add(
          'tasks',
          {
            type: 'createTask',
            taskId: `rebuild-${map.revision}-${plan.commands.length}`,
            kind: 'rebuild',
            volumeId: v.id,
            nodeId,
            ...(source !== undefined ? { sourceNodeId: source } : {}),
            totalBytes: v.sizeBytes,
            message: `rebuild of ${v.name} on ${nodeId}, attempt ${failures + 1} of ${MAX_REBUILD_ATTEMPTS}`,
          },
          `${v.name}: rebuild on ${nodeId} failed ${failures} time(s); trying again`,
          v.id,
        );
      } else {
        plan.add(
          'tasks',
          { type: 'removeReplica', volumeId: v.id, nodeId, force: false },
          `${v.name}: rebuild on ${nodeId} failed ${failures} times; placing it elsewhere`,
          v.id,
        );
      }
      break;
    }
  }
}

/** Loop 3, repair and drain: volumes short of replicas, the least protected first. */
function planRepairs(s: PlanState): void {
  const { map, nowMs, settings, suspect, view, plan, rebuildsOn, upNodes, assessments } = s;
  // 3. repair and drain: volumes short of replicas, the least protected first.
  const short = assessments
    .filter((a) => a.deficit > 0 && !plan.touched.has(a.volume.id))
    .sort(
      (x, y) =>
        x.inSyncGood.length - y.inSyncGood.length ||
        y.deficit - x.deficit ||
        compare(x.volume.name, y.volume.name),
    );
  for (const a of short) {
    if (plan.full) break;
    const v = a.volume;
    const members = v.replicas.map((r) => r.nodeId);
    // A copy that left while the volume was idle and came back before any attach is whole.
    const whole = v.staleReplicas.find(
      (st) =>
        st.idle === true &&
        st.epoch === v.epoch &&
        v.attachment === null &&
        upNodes.has(st.nodeId) &&
        !suspect.has(st.nodeId) &&
        replicaRefusal(view, v, st.nodeId, members) === null,
    );
    if (whole) {
      s.addReplica(
        'repair',
        v,
        whole.nodeId,
        undefined,
        `${v.name}: ${whole.nodeId} is back with a whole copy`,
      );
      s.repairsPlanned++;
      continue;
    }
    // Without a reachable in-sync copy a new replica has nothing to copy from: wait for one.
    if (a.inSyncGood.length === 0 && !a.leaving.some((id) => inSyncOn(v, id))) {
      plan.block({
        loop: 'repair',
        volumeId: v.id,
        reason: `no in-sync replica of ${v.name} is reachable; waiting for one to return`,
        hint: `start the node holding an in-sync replica again (${
          v.replicas
            .filter((r) => r.role === 'in-sync')
            .map((r) => r.nodeId)
            .join(', ') || 'none listed'
        }): no other copy holds every write`,
      });
      continue;
    }
    // A returning node catches up by a delta rebuild of the copy it kept.
    const back = a.lost.find((l) => {
      if (l.member) return false;
      const node = map.getNode(l.nodeId);
      return (
        node !== undefined &&
        node.state === 'up' &&
        !suspect.has(node.id) &&
        s.heardSince(node.id, l.sinceMs) &&
        (rebuildsOn.get(node.id) ?? 0) < MAX_REBUILDS_PER_NODE &&
        replicaRefusal(view, v, node.id, members) === null
      );
    });
    if (back) {
      s.addReplica(
        'repair',
        v,
        back.nodeId,
        undefined,
        `${v.name}: ${back.nodeId} is back; delta rebuild`,
      );
      s.repairsPlanned++;
      continue;
    }
    // A node that is back (up, heard from since) but cannot hold its copy any more (full, or
    // no longer matching the volume's selector): waiting for it helps nothing, so its copy is
    // replaced now, and the reason is said.
    const cannotReturn = (l: LostReplica): string | null => {
      if (l.member) return null;
      const node = map.getNode(l.nodeId);
      if (node === undefined || node.state !== 'up' || suspect.has(node.id)) return null;
      if (!s.heardSince(node.id, l.sinceMs)) return null;
      return replicaRefusal(view, v, node.id, members);
    };
    const graceOver = (l: LostReplica): boolean => {
      const node = map.getNode(l.nodeId);
      if (!node || node.state === 'removed' || node.scheduling === 'draining') return true;
      if (cannotReturn(l) !== null) return true;
      return nowMs - l.sinceMs >= settings.replicaReplacementGraceMs;
    };
    const expired = a.lost
      .filter(graceOver)
      .sort((x, y) => x.sinceMs - y.sinceMs || compare(x.nodeId, y.nodeId));
    const waiting = a.lost.filter((l) => !graceOver(l));
    let replacing: string | undefined;
    let loop: ControlLoopName = 'repair';
    let why: string;
    let returnRefused: string | null = null;
    if (expired.length > 0) {
      replacing = expired[0]!.nodeId;
      returnRefused = cannotReturn(expired[0]!);
      why =
        returnRefused === null
          ? `${v.name}: replacing the replica lost on ${replacing}`
          : `${v.name}: replacing the replica on ${replacing}, which is up but cannot take its copy back (${returnRefused})`;
    } else if (a.leaving.length > 0) {
      if (s.moveBudget <= 0) {
        plan.block({
          loop: 'drain',
          volumeId: v.id,
          nodeId: a.leaving[0]!,
          reason: `waiting for a move slot (maxConcurrentMoves ${settings.maxConcurrentMoves})`,
          hint: 'moves in flight free their slots as they finish; PATCH /v1/settings maxConcurrentMoves allows more at once',
        });
        continue;
      }
      replacing = [...a.leaving].sort(compare)[0]!;
      loop = 'drain';
      why = `${v.name}: moving off draining node ${replacing}`;
    } else if (a.deficit > waiting.length) {
      why = `${v.name}: ${a.inSyncGood.length + a.rebuildingGood.length} of ${v.desiredReplicas} replicas`;
    } else {
      const first = waiting.sort((x, y) => x.sinceMs - y.sinceMs)[0]!;
      const untilMs = first.sinceMs + settings.replicaReplacementGraceMs;
      plan.block({
        loop: 'repair',
        volumeId: v.id,
        nodeId: first.nodeId,
        reason: `waiting for ${first.nodeId} to return within the grace period (replicaReplacementGraceMs); then a replacement on another node`,
        untilMs,
        hint: `bring ${first.nodeId} back before then (it catches up by a delta rebuild), or replace its replicas now with \`ballast node drain ${first.nodeId}\``,
      });
      continue;
    }
    const decision = s.place(a, replacing);
    if (!decision.ok) {
      plan.block({
        loop,
        volumeId: v.id,
        ...(replacing !== undefined ? { nodeId: replacing } : {}),
        reason:
          returnRefused === null
            ? `cannot place a replica of ${v.name}: ${decision.reason}`
            : `cannot place a replica of ${v.name}: ${decision.reason}; ${replacing} is up but cannot take its copy back (${returnRefused}): free space there or add a node`,
        hint:
          replacing !== undefined && loop === 'repair' && returnRefused === null
            ? `add a node the volume may use (see \`ballast node ls\`; the placement rule above says which), or bring ${replacing} back: it catches up by a delta rebuild`
            : 'add a node the volume may use (see `ballast node ls`; the placement rule above says which), or free space on one',
      });
      continue;
    }
    s.addReplica(loop, v, decision.nodeIds[0]!, replacing, why);
    if (loop === 'drain') s.moveBudget--;
    else s.repairsPlanned++;
  }
}

/** A drain that cannot finish says why in its task, for `ballast node drain --wait`. */
function planDrainReports(s: PlanState): void {
  const { map, plan } = s;
  // A drain that cannot finish says why in its task, for `ballast node drain --wait`.
  const drainBlocks = new Map<string, string[]>();
  for (const b of plan.blocked) {
    if (b.loop !== 'drain' || b.nodeId === undefined || !b.reason.startsWith('cannot place')) {
      continue;
    }
    drainBlocks.set(b.nodeId, [...(drainBlocks.get(b.nodeId) ?? []), b.reason]);
  }
  for (const [nodeId, reasons] of [...drainBlocks].sort((x, y) => compare(x[0], y[0]))) {
    const task = map
      .listTasks()
      .find((t) => t.kind === 'drain' && t.nodeId === nodeId && t.finishedAt === null);
    if (!task || plan.full) continue;
    const left = map.volumesOnNode(nodeId).length;
    const message = clip(
      `${left} replica(s) left to move off ${nodeId}; ${reasons.length} blocked: ${reasons[0]!}`,
    );
    if (task.message === message) continue;
    plan.add(
      'drain',
      { type: 'updateTask', taskId: task.id, doneBytes: task.doneBytes, message },
      `drain of ${nodeId} is blocked: ${reasons[0]!}`,
    );
  }
}

/** Loop 4, trim: remove what the in-sync replicas now replace. */
function planTrims(s: PlanState): void {
  const { tasks, view, plan, assessments, loads } = s;
  // 4. trim: remove what the in-sync replicas now replace.
  for (const a of assessments) {
    if (plan.full) break;
    const v = a.volume;
    if (plan.touched.has(v.id)) continue;
    const enough = a.inSyncGood.length >= v.desiredReplicas;
    let victim: string | undefined;
    let why = '';
    const stale = v.staleReplicas.map((s: StaleReplica) => s.nodeId);
    const open = tasks.openByVolume.get(v.id) ?? [];
    const rebuildingElsewhere = v.replicas.filter(
      (r) => r.role === 'rebuilding' && !a.rebuildingGood.includes(r.nodeId),
    );
    if (enough && stale.length > 0) {
      victim = [...stale].sort(compare)[0]!;
      why = `${v.name}: dropping the stale copy on ${victim}`;
    } else if (rebuildingElsewhere.length > 0 && a.deficit <= 0) {
      victim = rebuildingElsewhere[0]!.nodeId;
      why = `${v.name}: dropping the rebuild on ${victim} (node down or draining)`;
    } else if (enough && a.lost.some((l) => l.member)) {
      victim = a.lost.find((l) => l.member)!.nodeId;
      why = `${v.name}: removing the replica on down node ${victim}`;
    } else if (enough && a.leaving.length > 0) {
      victim = [...a.leaving].sort(compare)[0]!;
      why = `${v.name}: moved off draining node ${victim}`;
    } else if (a.inSyncGood.length > v.desiredReplicas) {
      const origin = open.find(
        (t) =>
          t.kind === 'move' && t.sourceNodeId !== null && a.inSyncGood.includes(t.sourceNodeId),
      );
      if (origin) {
        victim = origin.sourceNodeId!;
        why = `${v.name}: move to ${origin.nodeId ?? '?'} done; removing the origin ${victim}`;
      } else if (a.rebuildingGood.length === 0) {
        victim = excessVictim(view, loads, a.inSyncGood);
        why = `${v.name}: ${a.inSyncGood.length} in-sync replicas, ${v.desiredReplicas} desired`;
      }
    }
    if (victim !== undefined) {
      plan.add(
        'trim',
        { type: 'removeReplica', volumeId: v.id, nodeId: victim, force: false },
        why,
        v.id,
      );
    }
  }
}

/**
 * Of several in-sync replicas, the one to drop: keeps the most zones, then frees the node with
 * the largest used share (the measure rebalance evens out).
 */
function excessVictim(
  map: ClusterMapReader,
  loads: ReadonlyMap<string, number>,
  inSync: readonly string[],
): string {
  let best: { id: string; zonesLeft: number; share: number } | undefined;
  for (const id of [...inSync].sort(compare)) {
    const rest = inSync.filter((x) => x !== id);
    const node = map.getNode(id)!;
    const sched = schedulableBytes(node, map.settings);
    const share = sched > 0 ? (loads.get(id) ?? 0) / sched : Infinity;
    const zonesLeft = distinctZones(map, rest);
    if (
      !best ||
      zonesLeft > best.zonesLeft ||
      (zonesLeft === best.zonesLeft && share > best.share)
    ) {
      best = { id, zonesLeft, share };
    }
  }
  return best!.id;
}

interface NodeShare {
  node: NodeRecord;
  /** Used bytes once moves in flight and this plan's additions are done. */
  used: number;
  schedulable: number;
}

function projectedShares(
  map: ClusterMapReader,
  suspect: ReadonlySet<string>,
  loads: ReadonlyMap<string, number>,
  leavingBytes: ReadonlyMap<string, number>,
  addedBytes: ReadonlyMap<string, number>,
): { nodes: NodeShare[]; mean: number } {
  const nodes: NodeShare[] = [];
  let used = 0;
  let schedulable = 0;
  for (const node of map.listNodes()) {
    if (node.state !== 'up' || suspect.has(node.id)) continue;
    const sched = schedulableBytes(node, map.settings);
    if (sched <= 0) continue;
    const u = Math.max(
      0,
      (loads.get(node.id) ?? 0) - (leavingBytes.get(node.id) ?? 0) + (addedBytes.get(node.id) ?? 0),
    );
    nodes.push({ node, used: u, schedulable: sched });
    used += u;
    schedulable += sched;
  }
  return { nodes, mean: schedulable > 0 ? used / schedulable : 0 };
}

function rebalance(ctx: {
  map: ClusterMapReader;
  view: ProjectedMap;
  plan: PlanBuilder;
  /** Whether a volume has nothing else going on (only those move). */
  settled: (volume: VolumeRecord) => boolean;
  shares: { nodes: NodeShare[]; mean: number };
  margin: number;
  moveBudget: number;
  busy: readonly string[];
}): void {
  const { map, view, plan, shares, margin } = ctx;
  let budget = ctx.moveBudget;
  if (budget <= 0) {
    plan.block({ loop: 'rebalance', reason: 'all move slots are in use (maxConcurrentMoves)' });
    return;
  }
  const byNode = new Map(shares.nodes.map((n) => [n.node.id, n]));
  const ratio = (n: NodeShare) => n.used / n.schedulable;
  const excluded = new Set(ctx.busy);
  for (const node of map.listNodes()) {
    if (!byNode.has(node.id)) excluded.add(node.id);
  }
  const origins = [...shares.nodes].sort(
    (x, y) => ratio(y) - ratio(x) || compare(x.node.id, y.node.id),
  );
  const minRatio = Math.min(...shares.nodes.map(ratio));
  let tried = 0;
  for (const origin of origins) {
    if (budget <= 0 || plan.full || tried >= REBALANCE_ORIGINS_PER_PLAN) break;
    // Only nodes above the mean give; the emptiest ones are what a move fills.
    const over = ratio(origin) - shares.mean;
    if (over <= margin && shares.mean - minRatio <= margin) break;
    if (over <= 0) break;
    tried++;
    const gapBytes = over * origin.schedulable;
    const candidates: Array<{ volume: VolumeRecord; usedBytes: number }> = [];
    for (const id of map.volumesOnNode(origin.node.id)) {
      const volume = map.getVolume(id);
      if (volume === undefined || plan.touched.has(volume.id) || !ctx.settled(volume)) continue;
      // An empty replica weighs nothing: moving it would cost a rebuild and even out nothing.
      const usedBytes = replicaUsedBytes(volume, origin.node.id);
      if (usedBytes > 0) candidates.push({ volume, usedBytes });
    }
    // Largest first among those that fit the gap, then the smaller ones.
    candidates.sort(
      (x, y) =>
        Number(y.usedBytes <= gapBytes) - Number(x.usedBytes <= gapBytes) ||
        (x.usedBytes <= gapBytes ? y.usedBytes - x.usedBytes : x.usedBytes - y.usedBytes) ||
        compare(x.volume.id, y.volume.id),
    );
    for (const { volume: v, usedBytes: moved } of candidates.slice(
      0,
      REBALANCE_CANDIDATES_PER_NODE,
    )) {
      if (budget <= 0 || plan.full) break;
      const members = v.replicas.map((r) => r.nodeId);
      const remaining = members.filter((id) => id !== origin.node.id);
      // Only nodes that stay within the margin with this replica are offered to placement, which
      // then applies its usual rules (room by provisioned bytes, hosts, zones) among them.
      const tooFull = shares.nodes
        .filter((n) => (n.used + moved) / n.schedulable > shares.mean + margin)
        .map((n) => n.node.id);
      const decision = placeReplicas(view, {
        count: 1,
        sizeBytes: v.sizeBytes,
        nodeSelector: v.constraints.nodeSelector,
        zoneSpread: v.constraints.zoneSpread,
        preferHost: v.attachment?.host,
        existingNodeIds: remaining,
        excludeNodeIds: [...members, ...excluded, ...tooFull],
      });
      if (!decision.ok) continue;
      const target = byNode.get(decision.nodeIds[0]!);
      if (!target) continue;
      // Spread is kept: never fewer zones than now.
      if (distinctZones(map, [...remaining, target.node.id]) < distinctZones(map, members))
        continue;
      // The move must lower sum(used^2 / S): strictly, so no sequence of moves can cycle.
      const gain =
        2 * moved * (ratio(origin) - ratio(target)) -
        moved * moved * (1 / origin.schedulable + 1 / target.schedulable);
      if (gain <= 0) continue;
      plan.add(
        'rebalance',
        { type: 'addReplica', volumeId: v.id, nodeId: target.node.id, replacing: origin.node.id },
        `${v.name}: rebalancing ${formatSize(moved)} used from ${origin.node.id} (${(100 * ratio(origin)).toFixed(1)}%) to ${target.node.id} (${(100 * ratio(target)).toFixed(1)}%), mean used ${(100 * shares.mean).toFixed(1)}%`,
        v.id,
      );
      // Room is provisioned bytes (placement); balance is used bytes.
      view.add(target.node.id, v.sizeBytes);
      origin.used -= moved;
      target.used += moved;
      budget--;
      if (ratio(origin) - shares.mean <= margin / 2) break;
    }
  }
}
