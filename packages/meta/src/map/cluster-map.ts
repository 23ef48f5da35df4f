import { TypeCompiler } from '@sinclair/typebox/compiler';
import { assert, BallastError, formatSize, type ErrorCode } from '@ballast/common';
import { decodeCommand, type Command, type CommandOf, type CommandType } from './commands.js';
import {
  describeZone,
  freeBytes,
  hostKeyOf,
  isLive,
  replicaIneligibility,
  zoneOf,
} from './eligibility.js';
import { volumeHealth } from './health.js';
import { checkInvariants } from './invariants.js';
import {
  BLOCK_SIZE_BYTES,
  MAX_ACTIVE_TASKS,
  MAX_FINISHED_TASKS,
  MAX_NODES,
  MAX_REASON_LENGTH,
  MAX_REPLICA_SET_SIZE,
  MAX_STALE_REPLICAS,
  MAX_VOLUMES,
} from './limits.js';
import {
  DEFAULT_SETTINGS,
  MAX_SNAPSHOTS_PER_VOLUME,
  SNAPSHOT_FORMAT,
  SnapshotSchema,
  type ClusterMapSnapshot,
  type Labels,
  type MapChange,
  type MapEvent,
  type NodeRecord,
  type NodeState,
  type Settings,
  type StaleReplica,
  type TaskOutcome,
  type TaskRecord,
  type VolumeRecord,
  type VolumeRevert,
  type VolumeSnapshot,
} from './schemas.js';

export interface ApplyError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export type ApplyValue = NodeRecord | VolumeRecord | TaskRecord | Settings | null;

/**
 * What applying one command returned. It is plain JSON and a function of the map and the command
 * only, so every member computes the same result and a proposer on another member can be sent it.
 */
export type ApplyResult =
  | { ok: true; revision: number; changed: boolean; value: ApplyValue }
  | { ok: false; error: ApplyError };

export interface ApplyOutcome {
  result: ApplyResult;
  /** The change event, when the command changed the map (and so took a new revision). */
  event: MapEvent | null;
}

/** Read access to the map, for placement, the API and the invariant checks. */
export interface ClusterMapReader {
  readonly revision: number;
  readonly appliedIndex: number;
  readonly settings: Settings;
  getNode(id: string): NodeRecord | undefined;
  getVolume(id: string): VolumeRecord | undefined;
  getVolumeByName(name: string): VolumeRecord | undefined;
  getTask(id: string): TaskRecord | undefined;
  /** Every node, removed ones included, sorted by id. */
  listNodes(): readonly NodeRecord[];
  /** Every volume, sorted by name. */
  listVolumes(): readonly VolumeRecord[];
  /** Every task, sorted by id. */
  listTasks(): readonly TaskRecord[];
  /** Sum of the sizes of the replicas (either role) a node holds. */
  provisionedBytes(nodeId: string): number;
  /** Ids of the volumes with a replica (either role) on a node, sorted. */
  volumesOnNode(nodeId: string): readonly string[];
  snapshot(): ClusterMapSnapshot;
}

type Refusal = ApplyError & { refused: true };

function refuse(code: ErrorCode, message: string, details?: Record<string, unknown>): Refusal {
  return details === undefined
    ? { refused: true, code, message }
    : { refused: true, code, message, details };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** The volume with a snapshot still waiting for its cut marked failed (the epoch moves on). */
function withoutCut(volume: VolumeRecord, reason: string): VolumeRecord {
  const snapshots = volume.snapshots;
  if (snapshots === undefined || !snapshots.some((s) => s.state === 'creating')) return volume;
  return {
    ...volume,
    snapshots: snapshots.map((s) =>
      s.state === 'creating' ? { ...s, state: 'failed' as const, stateReason: reason } : s,
    ),
  };
}

/** The refusal for changes that must wait for a revert under way (D31). */
function revertRefusal(volume: VolumeRecord, what: string): Refusal | undefined {
  const revert = volume.revert;
  if (!revert) return undefined;
  return refuse(
    'CONFLICT',
    `volume ${volume.name} is being reverted to snapshot ${revert.snapshot} (waiting for ${revert.waitingFor.filter((n) => !revert.nodeIds.includes(n)).join(', ') || 'nothing'}); ${what} once that is done`,
    { snapshot: revert.snapshot },
  );
}

/** The refusal for changes that must wait for a clone's first copy (D32). */
function seedRefusal(volume: VolumeRecord, what: string): Refusal | undefined {
  if (!volume.seed || !volume.source) return undefined;
  return refuse(
    'CONFLICT',
    `volume ${volume.name} is a clone of ${volume.source.volume}@${volume.source.snapshot} still being copied (on ${volume.seed.nodeId}); ${what} once it is done (ballast volume inspect ${volume.name})`,
    { source: `${volume.source.volume}@${volume.source.snapshot}` },
  );
}

/**
 * A revert is done once no node holding an in-sync replica is left to report: nodes whose
 * replica left the set meanwhile come back through a rebuild from the reverted ones.
 */
function settleRevert(volume: VolumeRecord): VolumeRecord {
  const revert = volume.revert;
  if (!revert) return volume;
  const inSync = new Set(volume.replicas.filter((r) => r.role === 'in-sync').map((r) => r.nodeId));
  const pending = revert.waitingFor.filter((n) => inSync.has(n) && !revert.nodeIds.includes(n));
  return pending.length === 0 ? { ...volume, revert: null } : volume;
}

function clip(text: string): string {
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 3)}...`;
}

/** Up to `max` items then "and N more", for refusals that name what blocks them. */
function listSome(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

function effectiveNodeState(
  node: Pick<NodeRecord, 'state' | 'scheduling' | 'reachable'>,
): NodeState {
  if (node.state === 'removed') return 'removed';
  if (!node.reachable) return 'down';
  if (node.scheduling === 'draining') return 'draining';
  if (node.scheduling === 'cordoned') return 'cordoned';
  return 'up';
}

/** Staged changes of one command; nothing reaches the map unless the command is accepted. */
class Txn {
  readonly nodes = new Map<string, NodeRecord>();
  readonly volumes = new Map<string, VolumeRecord | null>();
  readonly tasks = new Map<string, TaskRecord | null>();
  settings: Settings | null = null;
  /** Which object the command's result shows (read back after commit, health included). */
  result: { kind: 'node' | 'volume' | 'task' | 'settings'; id: string } | null = null;

  constructor(
    private readonly map: ClusterMap,
    /** The command's log index: ids of objects a command creates derive from it. */
    readonly logIndex: number,
  ) {}

  node(id: string): NodeRecord | undefined {
    return this.nodes.get(id) ?? this.map.getNode(id);
  }

  volume(id: string): VolumeRecord | undefined {
    if (this.volumes.has(id)) return this.volumes.get(id) ?? undefined;
    return this.map.getVolume(id);
  }

  task(id: string): TaskRecord | undefined {
    if (this.tasks.has(id)) return this.tasks.get(id) ?? undefined;
    return this.map.getTask(id);
  }

  putNode(node: NodeRecord): void {
    this.nodes.set(node.id, node);
    this.result = { kind: 'node', id: node.id };
  }

  putVolume(volume: VolumeRecord): void {
    this.volumes.set(volume.id, volume);
    this.result = { kind: 'volume', id: volume.id };
  }

  deleteVolume(id: string): void {
    this.volumes.set(id, null);
  }

  /** Names the object the result shows when the command changes nothing (a repeat). */
  show(kind: 'node' | 'volume' | 'task' | 'settings', id: string): void {
    this.result = { kind, id };
  }

  putTask(task: TaskRecord): void {
    this.tasks.set(task.id, task);
    this.result = { kind: 'task', id: task.id };
  }

  deleteTask(id: string): void {
    this.tasks.set(id, null);
  }
}

const snapshotChecker = TypeCompiler.Compile(SnapshotSchema);

/**
 * The cluster map: the state machine that Raft replicates. `apply` is deterministic: the result
 * and the new state depend only on the current state and the command (commands carry their own
 * timestamps and ids), and nothing depends on the order of JavaScript Map iteration, so a member
 * restored from a snapshot and one that applied the whole log agree byte for byte.
 *
 * Every command is validated against the current state; a refused command changes nothing (the
 * log index still advances). Every accepted command that changes something takes the next
 * revision and yields one change event. `revision` counts map changes (dense, so watchers can
 * resume exactly); `appliedIndex` is the Raft log index last applied.
 */
export class ClusterMap implements ClusterMapReader {
  private nodesById = new Map<string, NodeRecord>();
  private volumesById = new Map<string, VolumeRecord>();
  private tasksById = new Map<string, TaskRecord>();
  private volumeIdByName = new Map<string, string>();
  private volumesByNode = new Map<string, Set<string>>();
  private provisioned = new Map<string, number>();
  private activeTaskCount = 0;
  private finishedTaskCount = 0;
  private sortedNodes: readonly NodeRecord[] | null = null;
  private sortedVolumes: readonly VolumeRecord[] | null = null;
  private sortedTasks: readonly TaskRecord[] | null = null;
  /**
   * The sort orders themselves, kept while only values change: most commands update a record,
   * and re-sorting 10,000 volumes after each would dominate the leader's planning.
   */
  private sortedVolumeIds: string[] | null = null;
  private sortedTaskIds: string[] | null = null;
  /** Unfinished tasks by volume id, and the open drain task of each draining node. */
  private openTasksByVolume = new Map<string, Set<string>>();
  private openDrainTaskByNode = new Map<string, string>();
  /** Finished tasks, oldest first by (finishedAt, id): the ones dropped when history is full. */
  private finishedOrder: Array<{ finishedAt: number; id: string }> = [];
  private currentSettings: Settings = deepFreeze({ ...DEFAULT_SETTINGS });
  private currentRevision = 0;
  private currentAppliedIndex = 0;

  get revision(): number {
    return this.currentRevision;
  }

  get appliedIndex(): number {
    return this.currentAppliedIndex;
  }

  get settings(): Settings {
    return this.currentSettings;
  }

  getNode(id: string): NodeRecord | undefined {
    return this.nodesById.get(id);
  }

  getVolume(id: string): VolumeRecord | undefined {
    return this.volumesById.get(id);
  }

  getVolumeByName(name: string): VolumeRecord | undefined {
    const id = this.volumeIdByName.get(name);
    return id === undefined ? undefined : this.volumesById.get(id);
  }

  getTask(id: string): TaskRecord | undefined {
    return this.tasksById.get(id);
  }

  listNodes(): readonly NodeRecord[] {
    this.sortedNodes ??= Object.freeze(
      [...this.nodesById.values()].sort((a, b) => compare(a.id, b.id)),
    );
    return this.sortedNodes;
  }

  listVolumes(): readonly VolumeRecord[] {
    if (this.sortedVolumes === null) {
      this.sortedVolumeIds ??= [...this.volumesById.values()]
        .sort((a, b) => compare(a.name, b.name))
        .map((v) => v.id);
      this.sortedVolumes = Object.freeze(
        this.sortedVolumeIds.map((id) => this.volumesById.get(id)!),
      );
    }
    return this.sortedVolumes;
  }

  listTasks(): readonly TaskRecord[] {
    if (this.sortedTasks === null) {
      this.sortedTaskIds ??= [...this.tasksById.keys()].sort(compare);
      this.sortedTasks = Object.freeze(this.sortedTaskIds.map((id) => this.tasksById.get(id)!));
    }
    return this.sortedTasks;
  }

  provisionedBytes(nodeId: string): number {
    return this.provisioned.get(nodeId) ?? 0;
  }

  volumesOnNode(nodeId: string): readonly string[] {
    return [...(this.volumesByNode.get(nodeId) ?? [])].sort(compare);
  }

  /**
   * Applies one log entry. `entry` is whatever the log holds (it is checked against the command
   * schemas here); `logIndex` is its Raft index and must grow.
   */
  apply(entry: unknown, logIndex: number): ApplyOutcome {
    assert(
      Number.isSafeInteger(logIndex) && logIndex > this.currentAppliedIndex,
      `log index ${logIndex} applied after ${this.currentAppliedIndex}`,
    );
    this.currentAppliedIndex = logIndex;
    const decoded = decodeCommand(entry);
    if (!decoded.ok) {
      return {
        result: { ok: false, error: { code: 'INVALID_ARGUMENT', message: decoded.message } },
        event: null,
      };
    }
    const command = decoded.command;
    const txn = new Txn(this, logIndex);
    const refusal = this.dispatch(txn, command);
    if (refusal) {
      const error: ApplyError = { code: refusal.code, message: refusal.message };
      if (refusal.details !== undefined) error.details = refusal.details;
      return { result: { ok: false, error }, event: null };
    }
    this.refreshDrainTasks(txn, command.at);
    this.boundFinishedTasks(txn);
    this.refreshSeeds(txn);
    this.refreshHealth(txn);
    this.refreshSnapshotHolders(txn);
    const changes = this.commit(txn);
    const value = this.resultValue(txn);
    if (changes.length === 0) {
      return {
        result: { ok: true, revision: this.currentRevision, changed: false, value },
        event: null,
      };
    }
    const event: MapEvent = deepFreeze({
      revision: this.currentRevision,
      logIndex,
      at: command.at,
      command: command.type,
      changes,
    });
    return {
      result: { ok: true, revision: this.currentRevision, changed: true, value },
      event,
    };
  }

  private resultValue(txn: Txn): ApplyValue {
    const ref = txn.result;
    if (ref === null) return null;
    switch (ref.kind) {
      case 'node':
        return this.nodesById.get(ref.id) ?? null;
      case 'volume':
        return this.volumesById.get(ref.id) ?? null;
      case 'task':
        return this.tasksById.get(ref.id) ?? null;
      case 'settings':
        return this.currentSettings;
    }
  }

  /** A plain-JSON copy of the whole map, sorted by id, for Raft snapshots. */
  snapshot(): ClusterMapSnapshot {
    const byId = <T extends { id: string }>(a: T, b: T) => compare(a.id, b.id);
    return structuredClone({
      format: SNAPSHOT_FORMAT,
      appliedIndex: this.currentAppliedIndex,
      revision: this.currentRevision,
      settings: this.currentSettings,
      nodes: [...this.nodesById.values()].sort(byId),
      volumes: [...this.volumesById.values()].sort(byId),
      tasks: [...this.tasksById.values()].sort(byId),
    }) as ClusterMapSnapshot;
  }

  /**
   * Rebuilds a map from a snapshot (for instance one received from the leader). The snapshot is
   * checked against its schema and the map's invariants; a bad one is refused as a whole.
   */
  static restore(input: unknown): ClusterMap {
    const snapshot = upgradeSnapshot(input);
    if (!snapshotChecker.Check(snapshot)) {
      const first = snapshotChecker.Errors(snapshot).First();
      throw new BallastError(
        'INVALID_ARGUMENT',
        `invalid cluster map snapshot: ${first?.path || '(root)'} ${first?.message ?? ''}`.trim(),
      );
    }
    const data = structuredClone(snapshot);
    const map = new ClusterMap();
    map.currentAppliedIndex = data.appliedIndex;
    map.currentRevision = data.revision;
    map.currentSettings = deepFreeze(data.settings);
    for (const node of data.nodes) {
      if (map.nodesById.has(node.id)) {
        throw new BallastError('INVALID_ARGUMENT', `invalid snapshot: node ${node.id} twice`);
      }
      map.nodesById.set(node.id, deepFreeze(node));
    }
    for (const volume of data.volumes) {
      if (map.volumesById.has(volume.id) || map.volumeIdByName.has(volume.name)) {
        throw new BallastError('INVALID_ARGUMENT', `invalid snapshot: volume ${volume.id} twice`);
      }
      map.indexVolume(deepFreeze(volume));
    }
    for (const task of data.tasks) {
      if (map.tasksById.has(task.id)) {
        throw new BallastError('INVALID_ARGUMENT', `invalid snapshot: task ${task.id} twice`);
      }
      map.indexTask(deepFreeze(task));
    }
    try {
      checkInvariants(map);
    } catch (err) {
      throw new BallastError('INVALID_ARGUMENT', `invalid snapshot: ${(err as Error).message}`);
    }
    return map;
  }

  // ---- dispatch ------------------------------------------------------------------------------

  private readonly handlers: {
    [T in CommandType]: (txn: Txn, c: CommandOf<T>) => Refusal | undefined;
  } = {
    registerNode: (t, c) => this.registerNode(t, c),
    setNodeState: (t, c) => this.setNodeState(t, c),
    labelNode: (t, c) => this.labelNode(t, c),
    reportNodeCapacity: (t, c) => this.reportNodeCapacity(t, c),
    reportReplicaUsage: (t, c) => this.reportReplicaUsage(t, c),
    createVolume: (t, c) => this.createVolume(t, c),
    resizeVolume: (t, c) => this.resizeVolume(t, c),
    setVolumeOptions: (t, c) => this.setVolumeOptions(t, c),
    deleteVolume: (t, c) => this.deleteVolume(t, c),
    attachVolume: (t, c) => this.attachVolume(t, c),
    detachVolume: (t, c) => this.detachVolume(t, c),
    markReplicaOutOfSync: (t, c) => this.markReplicaOutOfSync(t, c),
    markReplicaLost: (t, c) => this.markReplicaLost(t, c),
    addReplica: (t, c) => this.addReplica(t, c),
    promoteReplica: (t, c) => this.promoteReplica(t, c),
    removeReplica: (t, c) => this.removeReplica(t, c),
    createTask: (t, c) => this.createTask(t, c),
    updateTask: (t, c) => this.updateTask(t, c),
    finishTask: (t, c) => this.finishTask(t, c),
    updateSettings: (t, c) => this.updateSettings(t, c),
    createVolumeSnapshot: (t, c) => this.createVolumeSnapshot(t, c),
    finishVolumeSnapshot: (t, c) => this.finishVolumeSnapshot(t, c),
    takeVolumeSnapshot: (t, c) => this.takeVolumeSnapshot(t, c),
    revertVolume: (t, c) => this.revertVolume(t, c),
    reportRevert: (t, c) => this.reportRevert(t, c),
    deleteVolumeSnapshot: (t, c) => this.deleteVolumeSnapshot(t, c),
  };

  private dispatch(txn: Txn, command: Command): Refusal | undefined {
    const handler = this.handlers[command.type] as (txn: Txn, c: Command) => Refusal | undefined;
    return handler(txn, command);
  }

  // ---- nodes ---------------------------------------------------------------------------------

  private registerNode(txn: Txn, c: CommandOf<'registerNode'>): Refusal | undefined {
    if (c.usedBytes > c.capacityBytes) {
      return refuse(
        'UNPROCESSABLE',
        `node ${c.nodeId} reports ${formatSize(c.usedBytes)} used of ${formatSize(c.capacityBytes)}: used cannot exceed capacity`,
      );
    }
    const existing = this.nodesById.get(c.nodeId);
    if (existing?.state === 'removed') {
      return refuse(
        'CONFLICT',
        `node ${c.nodeId} was removed from the cluster; node ids are never reused: clear the node's data directory so it registers as a new node`,
        { nodeId: c.nodeId },
      );
    }
    for (const other of this.listNodes()) {
      if (
        other.id !== c.nodeId &&
        other.address === c.address &&
        other.state !== 'removed' &&
        other.reachable
      ) {
        return refuse(
          'CONFLICT',
          `address ${c.address} belongs to node ${other.id}, which is ${other.state}; two live nodes cannot share an address`,
          { nodeId: other.id, address: c.address },
        );
      }
    }
    if (existing) {
      // Re-registration (a restart): same id, same replicas. Labels stay as the map has them:
      // after joining, the map is their source of truth and PUT /labels changes them.
      const next: NodeRecord = {
        ...existing,
        address: c.address,
        capacityBytes: c.capacityBytes,
        usedBytes: c.usedBytes,
        reachable: true,
      };
      const state = effectiveNodeState(next);
      if (state !== existing.state) {
        next.state = state;
        next.stateSince = c.at;
        next.stateReason = 'registered again';
      }
      if (!sameJson(next, existing)) txn.putNode(next);
      else txn.show('node', existing.id);
      return undefined;
    }
    if (this.nodesById.size >= MAX_NODES) {
      return refuse('UNPROCESSABLE', `the cluster map holds at most ${MAX_NODES} nodes`);
    }
    txn.putNode({
      id: c.nodeId,
      address: c.address,
      labels: { ...c.labels },
      capacityBytes: c.capacityBytes,
      usedBytes: c.usedBytes,
      state: 'up',
      scheduling: 'active',
      reachable: true,
      stateSince: c.at,
      stateReason: 'registered',
      registeredAt: c.at,
    });
    return undefined;
  }

  private setNodeState(txn: Txn, c: CommandOf<'setNodeState'>): Refusal | undefined {
    const node = this.nodesById.get(c.nodeId);
    if (!node) return refuse('NOT_FOUND', `node ${c.nodeId} does not exist`, { nodeId: c.nodeId });
    if (node.state === 'removed') {
      if (c.action === 'remove') {
        txn.show('node', node.id);
        return undefined;
      }
      return refuse(
        'CONFLICT',
        `node ${c.nodeId} was removed; it cannot be ${c.action === 'up' || c.action === 'down' ? `marked ${c.action}` : `${c.action}ed`}`,
        {
          nodeId: c.nodeId,
        },
      );
    }
    const next: NodeRecord = { ...node };
    let defaultReason: string;
    switch (c.action) {
      case 'cordon':
        next.scheduling = 'cordoned';
        defaultReason = 'cordoned by an operator';
        break;
      case 'uncordon':
        next.scheduling = 'active';
        defaultReason = 'uncordoned by an operator';
        break;
      case 'drain':
        next.scheduling = 'draining';
        defaultReason = 'draining: its replicas are to move to other nodes';
        break;
      case 'down':
        next.reachable = false;
        defaultReason = 'marked down';
        break;
      case 'up':
        next.reachable = true;
        defaultReason = 'reachable again';
        break;
      case 'remove': {
        const holding = this.volumesOnNode(c.nodeId);
        if (holding.length > 0) {
          const names = holding.map((id) => this.volumesById.get(id)?.name ?? id).sort(compare);
          return refuse(
            'CONFLICT',
            `node ${c.nodeId} still holds replicas of ${holding.length} volume(s) (${listSome(names)}); drain it first`,
            { nodeId: c.nodeId, volumes: names.slice(0, 20), volumeCount: names.length },
          );
        }
        next.state = 'removed';
        next.stateSince = c.at;
        next.stateReason = clip(c.reason ?? 'removed by an operator');
        this.finishDrainTask(txn, c.nodeId, 'succeeded', 'node removed', c.at);
        // Stale records on a removed node cannot serve a delta rebuild any more.
        for (const volume of this.listVolumes()) {
          if (volume.staleReplicas.some((s) => s.nodeId === c.nodeId)) {
            txn.putVolume({
              ...volume,
              staleReplicas: volume.staleReplicas.filter((s) => s.nodeId !== c.nodeId),
            });
          }
        }
        txn.putNode(next);
        return undefined;
      }
    }
    const state = effectiveNodeState(next);
    if (state !== node.state) {
      next.state = state;
      next.stateSince = c.at;
      next.stateReason = clip(c.reason ?? defaultReason);
    }
    if (sameJson(next, node)) {
      txn.show('node', node.id);
      return undefined;
    }
    if (next.scheduling === 'draining' && node.scheduling !== 'draining') {
      const why = this.startDrainTask(txn, node.id, c.at);
      if (why) return why;
    } else if (next.scheduling !== 'draining' && node.scheduling === 'draining') {
      this.finishDrainTask(txn, node.id, 'cancelled', `drain stopped: node ${c.action}ed`, c.at);
    }
    txn.putNode(next);
    return undefined;
  }

  /** A drain task for a node that starts draining: its progress follows the replicas leaving. */
  private startDrainTask(txn: Txn, nodeId: string, at: number): Refusal | undefined {
    const count = this.volumesOnNode(nodeId).length;
    const totalBytes = this.provisionedBytes(nodeId);
    const id = this.freeTaskId(txn, `drain-${txn.logIndex}`);
    const empty = count === 0;
    if (!empty && this.activeTaskCount >= MAX_ACTIVE_TASKS) {
      return refuse(
        'UNPROCESSABLE',
        `the cluster map holds at most ${MAX_ACTIVE_TASKS} unfinished tasks`,
      );
    }
    txn.putTask({
      id,
      kind: 'drain',
      volumeId: null,
      nodeId,
      sourceNodeId: null,
      state: empty ? 'succeeded' : 'pending',
      doneBytes: 0,
      totalBytes,
      message: empty ? 'nothing to move' : `${count} replica(s) left to move off ${nodeId}`,
      createdAt: at,
      updatedAt: at,
      finishedAt: empty ? at : null,
    });
    return undefined;
  }

  private finishDrainTask(
    txn: Txn,
    nodeId: string,
    outcome: TaskOutcome,
    message: string,
    at: number,
  ): void {
    const id = this.openDrainTaskByNode.get(nodeId);
    const task = id === undefined ? undefined : txn.task(id);
    if (task && task.finishedAt === null) finishStaged(txn, task, outcome, message, at);
  }

  /**
   * Drain progress follows the map: whenever a command changes the replicas on a node with an
   * open drain task, the task's done bytes become what has left the node, and the task succeeds
   * when the node holds no replica any more. No extra log entry is needed for progress.
   */
  private refreshDrainTasks(txn: Txn, at: number): void {
    if (this.openDrainTaskByNode.size === 0 && ![...txn.tasks.values()].some(isOpenDrain)) return;
    const touched = new Set<string>();
    for (const [id, volume] of txn.volumes) {
      for (const r of this.volumesById.get(id)?.replicas ?? []) touched.add(r.nodeId);
      for (const r of volume?.replicas ?? []) touched.add(r.nodeId);
    }
    // A drain task created by this command starts from the node's replicas now.
    for (const [id, task] of txn.tasks) {
      if (isOpenDrain(task) && !this.tasksById.has(id)) touched.add(task.nodeId!);
    }
    for (const nodeId of [...touched].sort(compare)) {
      let task: TaskRecord | undefined;
      const staged = [...txn.tasks.values()].find((t) => isOpenDrain(t) && t.nodeId === nodeId);
      if (staged) task = staged;
      else {
        const id = this.openDrainTaskByNode.get(nodeId);
        task = id === undefined ? undefined : txn.task(id);
      }
      if (!task || task.finishedAt !== null) continue;
      const left = this.stagedReplicasOn(txn, nodeId);
      if (left.count === 0) {
        finishStaged(txn, task, 'succeeded', `all replicas moved off ${nodeId}`, at);
        continue;
      }
      const doneBytes = Math.min(task.totalBytes, Math.max(0, task.totalBytes - left.bytes));
      const message = `${left.count} replica(s) left to move off ${nodeId}`;
      if (doneBytes !== task.doneBytes || message !== task.message) {
        txn.tasks.set(task.id, {
          ...task,
          state: 'running',
          startedAt: task.startedAt ?? at,
          doneBytes,
          message,
          updatedAt: at,
        });
      }
    }
  }

  /** Replicas (either role) on a node once the staged changes are applied. */
  private stagedReplicasOn(txn: Txn, nodeId: string): { count: number; bytes: number } {
    const ids = new Set(this.volumesByNode.get(nodeId) ?? []);
    for (const [id, volume] of txn.volumes) {
      if (volume?.replicas.some((r) => r.nodeId === nodeId)) ids.add(id);
      else ids.delete(id);
    }
    let bytes = 0;
    for (const id of ids) bytes += txn.volume(id)?.sizeBytes ?? 0;
    return { count: ids.size, bytes };
  }

  private labelNode(txn: Txn, c: CommandOf<'labelNode'>): Refusal | undefined {
    const node = this.nodesById.get(c.nodeId);
    if (!node) return refuse('NOT_FOUND', `node ${c.nodeId} does not exist`, { nodeId: c.nodeId });
    if (node.state === 'removed') {
      return refuse('CONFLICT', `node ${c.nodeId} was removed; its labels cannot change`, {
        nodeId: c.nodeId,
      });
    }
    if (sameLabels(node.labels, c.labels)) {
      txn.show('node', node.id);
      return undefined;
    }
    txn.putNode({ ...node, labels: { ...c.labels } });
    return undefined;
  }

  private reportNodeCapacity(txn: Txn, c: CommandOf<'reportNodeCapacity'>): Refusal | undefined {
    const node = this.nodesById.get(c.nodeId);
    if (!node) return refuse('NOT_FOUND', `node ${c.nodeId} does not exist`, { nodeId: c.nodeId });
    if (node.state === 'removed') {
      return refuse('CONFLICT', `node ${c.nodeId} was removed`, { nodeId: c.nodeId });
    }
    if (c.usedBytes > c.capacityBytes) {
      return refuse(
        'UNPROCESSABLE',
        `node ${c.nodeId} reports ${formatSize(c.usedBytes)} used of ${formatSize(c.capacityBytes)}: used cannot exceed capacity`,
      );
    }
    const availableBytes = c.availableBytes ?? node.availableBytes;
    if (
      node.capacityBytes === c.capacityBytes &&
      node.usedBytes === c.usedBytes &&
      node.availableBytes === availableBytes
    ) {
      txn.show('node', node.id);
      return undefined;
    }
    txn.putNode({
      ...node,
      capacityBytes: c.capacityBytes,
      usedBytes: c.usedBytes,
      ...(availableBytes !== undefined ? { availableBytes } : {}),
    });
    return undefined;
  }

  /**
   * Records replica used bytes a node measured. The whole report is checked before anything is
   * staged, so a bad entry changes nothing. Entries for replicas the map no longer lists on the
   * node are skipped, not refused: the replica moved or its volume was deleted after the node
   * measured, and the other figures are still true.
   */
  private reportReplicaUsage(txn: Txn, c: CommandOf<'reportReplicaUsage'>): Refusal | undefined {
    const node = this.nodesById.get(c.nodeId);
    if (!node) return refuse('NOT_FOUND', `node ${c.nodeId} does not exist`, { nodeId: c.nodeId });
    if (node.state === 'removed') {
      return refuse('CONFLICT', `node ${c.nodeId} was removed`, { nodeId: c.nodeId });
    }
    const seen = new Set<string>();
    for (const entry of c.replicas) {
      if (seen.has(entry.volumeId)) {
        return refuse(
          'UNPROCESSABLE',
          `node ${c.nodeId} reports the usage of volume ${entry.volumeId} twice`,
          { volumeId: entry.volumeId },
        );
      }
      seen.add(entry.volumeId);
      const volume = txn.volume(entry.volumeId);
      if (volume && entry.usedBytes > volume.sizeBytes) {
        return refuse(
          'UNPROCESSABLE',
          `node ${c.nodeId} reports ${formatSize(entry.usedBytes)} used by its replica of ${volume.name}, larger than the volume (${formatSize(volume.sizeBytes)})`,
          { volumeId: volume.id },
        );
      }
    }
    for (const entry of c.replicas) {
      const volume = txn.volume(entry.volumeId);
      const replica = volume?.replicas.find((r) => r.nodeId === c.nodeId);
      if (!volume || !replica || replica.usedBytes === entry.usedBytes) continue;
      txn.putVolume({
        ...volume,
        replicas: volume.replicas.map((r) =>
          r.nodeId === c.nodeId ? { ...r, usedBytes: entry.usedBytes } : r,
        ),
      });
    }
    // The result shows the node (several volumes may have changed).
    txn.show('node', node.id);
    return undefined;
  }

  // ---- volumes -------------------------------------------------------------------------------

  private sizeRefusal(sizeBytes: number): Refusal | undefined {
    if (sizeBytes % BLOCK_SIZE_BYTES !== 0) {
      return refuse(
        'UNPROCESSABLE',
        `size ${sizeBytes} bytes is not a multiple of the ${BLOCK_SIZE_BYTES}-byte block size`,
        { sizeBytes },
      );
    }
    return undefined;
  }

  /**
   * Whether `nodeId` may hold a new replica of `volume`, given the other nodes that will hold its
   * replicas (`peers`). Checks the node's own eligibility and the spread rules: distinct hosts
   * always, distinct zones when the volume requires it.
   */
  private replicaPlacementRefusal(
    txn: Txn,
    nodeId: string,
    spec: Pick<VolumeRecord, 'name' | 'sizeBytes' | 'constraints'>,
    peers: readonly string[],
    extraProvisionedBytes = 0,
  ): Refusal | undefined {
    const node = txn.node(nodeId);
    if (!node) return refuse('NOT_FOUND', `node ${nodeId} does not exist`, { nodeId });
    const why = replicaIneligibility(
      node,
      this.provisionedBytes(nodeId) + extraProvisionedBytes,
      spec.sizeBytes,
      spec.constraints.nodeSelector,
      this.currentSettings,
    );
    if (why) {
      return refuse(
        why.reason === 'room' ? 'UNPROCESSABLE' : 'CONFLICT',
        `node ${nodeId} cannot hold a replica of ${spec.name}: ${why.detail}`,
        { nodeId, reason: why.reason },
      );
    }
    for (const peerId of peers) {
      const peer = txn.node(peerId);
      if (!peer) continue;
      if (hostKeyOf(peer) === hostKeyOf(node)) {
        return refuse(
          'CONFLICT',
          `node ${nodeId} is on the same host as node ${peerId} (${hostKeyOf(node)}); replicas of a volume must be on distinct hosts`,
          { nodeId, peerId },
        );
      }
      if (spec.constraints.zoneSpread === 'required' && zoneOf(peer) === zoneOf(node)) {
        return refuse(
          'CONFLICT',
          `node ${nodeId} is in zone ${describeZone(zoneOf(node))} like node ${peerId}; volume ${spec.name} requires its replicas in distinct zones`,
          { nodeId, peerId },
        );
      }
    }
    return undefined;
  }

  private createVolume(txn: Txn, c: CommandOf<'createVolume'>): Refusal | undefined {
    if (this.volumesById.has(c.volumeId)) {
      return refuse('CONFLICT', `volume id ${c.volumeId} is already in use`, {
        volumeId: c.volumeId,
      });
    }
    const sameName = this.getVolumeByName(c.name);
    if (sameName) {
      return refuse('CONFLICT', `a volume named ${c.name} already exists (id ${sameName.id})`, {
        name: c.name,
        volumeId: sameName.id,
      });
    }
    if (this.volumesById.size >= MAX_VOLUMES) {
      return refuse('UNPROCESSABLE', `the cluster map holds at most ${MAX_VOLUMES} volumes`);
    }
    const sizeRefusal = this.sizeRefusal(c.sizeBytes);
    if (sizeRefusal) return sizeRefusal;
    if ((c.chunkSizeBytes & (c.chunkSizeBytes - 1)) !== 0) {
      return refuse('UNPROCESSABLE', `chunk size ${c.chunkSizeBytes} bytes is not a power of two`, {
        chunkSizeBytes: c.chunkSizeBytes,
      });
    }
    if (c.replicaNodeIds.length !== c.desiredReplicas) {
      return refuse(
        'INVALID_ARGUMENT',
        `createVolume names ${c.replicaNodeIds.length} replica nodes for ${c.desiredReplicas} desired replicas`,
      );
    }
    if (new Set(c.replicaNodeIds).size !== c.replicaNodeIds.length) {
      return refuse('INVALID_ARGUMENT', `createVolume names a replica node twice`);
    }
    let source: VolumeRecord['source'];
    if (c.source !== undefined) {
      const origin = this.volumesById.get(c.source.volumeId);
      const snapshot = origin?.snapshots?.find((x) => x.id === c.source!.snapshotId);
      if (origin === undefined || snapshot === undefined) {
        return refuse('NOT_FOUND', `the snapshot to clone ${c.name} from does not exist`);
      }
      if (snapshot.state !== 'ready' || snapshot.nodeIds.length === 0) {
        return refuse(
          'CONFLICT',
          `snapshot ${origin.name}@${snapshot.name} is ${snapshot.state === 'ready' ? 'held by no replica' : snapshot.state}; only a ready snapshot can be cloned`,
          { snapshot: snapshot.name, state: snapshot.state },
        );
      }
      if (c.sizeBytes < snapshot.sizeBytes || c.chunkSizeBytes !== origin.chunkSizeBytes) {
        return refuse(
          'UNPROCESSABLE',
          `a clone of ${origin.name}@${snapshot.name} needs at least its ${snapshot.sizeBytes} bytes and its ${origin.chunkSizeBytes}-byte chunks`,
        );
      }
      source = {
        volumeId: origin.id,
        volume: origin.name,
        snapshotId: snapshot.id,
        snapshot: snapshot.name,
        seq: snapshot.seq,
      };
    }
    const spec = { name: c.name, sizeBytes: c.sizeBytes, constraints: c.constraints };
    for (let i = 0; i < c.replicaNodeIds.length; i++) {
      const nodeId = c.replicaNodeIds[i]!;
      const why = this.replicaPlacementRefusal(txn, nodeId, spec, c.replicaNodeIds.slice(0, i));
      if (why) return why;
    }
    txn.putVolume({
      id: c.volumeId,
      name: c.name,
      sizeBytes: c.sizeBytes,
      chunkSizeBytes: c.chunkSizeBytes,
      desiredReplicas: c.desiredReplicas,
      constraints: {
        nodeSelector: { ...c.constraints.nodeSelector },
        zoneSpread: c.constraints.zoneSpread,
      },
      fs: c.fs,
      state: 'healthy',
      stateReason: '',
      // A new volume holds no data, so every replica is trivially in sync; a clone's hold
      // nothing of what they should until its first copy is made (D32).
      replicas: c.replicaNodeIds.map((nodeId) => ({
        nodeId,
        role: source ? ('rebuilding' as const) : ('in-sync' as const),
        since: c.at,
        incarnation: txn.logIndex,
      })),
      staleReplicas: [],
      epoch: 0,
      attachment: null,
      createdAt: c.at,
      ...(c.replicaTimeoutMs !== undefined ? { replicaTimeoutMs: c.replicaTimeoutMs } : {}),
      ...(source ? { source, seed: { nodeId: c.replicaNodeIds[0]!, startedAt: c.at } } : {}),
    });
    return undefined;
  }

  private setVolumeOptions(txn: Txn, c: CommandOf<'setVolumeOptions'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    if ((volume.replicaTimeoutMs ?? null) === c.replicaTimeoutMs) {
      txn.show('volume', volume.id);
      return undefined;
    }
    const { replicaTimeoutMs: _old, ...rest } = volume;
    txn.putVolume(
      c.replicaTimeoutMs === null ? rest : { ...rest, replicaTimeoutMs: c.replicaTimeoutMs },
    );
    return undefined;
  }

  private volumeOrRefusal(volumeId: string): VolumeRecord | Refusal {
    const volume = this.volumesById.get(volumeId);
    return volume ?? refuse('NOT_FOUND', `volume ${volumeId} does not exist`, { volumeId });
  }

  private resizeVolume(txn: Txn, c: CommandOf<'resizeVolume'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    // Attached volumes grow too: the nodes grow their replicas from the map, and the attached
    // host's engine serves the new size once every replica has (new NBD connections see it).
    if (c.sizeBytes < volume.sizeBytes) {
      return refuse(
        'UNPROCESSABLE',
        `volume ${volume.name} is ${formatSize(volume.sizeBytes)}; shrinking to ${formatSize(c.sizeBytes)} is not supported (grow only)`,
        { sizeBytes: volume.sizeBytes },
      );
    }
    const sizeRefusal = this.sizeRefusal(c.sizeBytes);
    if (sizeRefusal) return sizeRefusal;
    if (c.sizeBytes === volume.sizeBytes) {
      txn.show('volume', volume.id);
      return undefined;
    }
    const growth = c.sizeBytes - volume.sizeBytes;
    const short: string[] = [];
    for (const replica of volume.replicas) {
      const node = this.nodesById.get(replica.nodeId);
      assert(node, `replica of ${volume.id} on unknown node ${replica.nodeId}`);
      const free = freeBytes(node, this.provisionedBytes(node.id), this.currentSettings);
      if (free < growth) short.push(`${node.id} (${formatSize(Math.max(0, free))} free)`);
    }
    if (short.length > 0) {
      return refuse(
        'UNPROCESSABLE',
        `growing ${volume.name} by ${formatSize(growth)} does not fit on ${short.join(', ')}`,
        { sizeBytes: volume.sizeBytes },
      );
    }
    const reverting = revertRefusal(volume, 'resize it') ?? seedRefusal(volume, 'resize it');
    if (reverting) return reverting;
    // A detached cut under way reads each replica at whatever size it has when its node takes
    // it: a resize in between would make the copies differ, so it fails the cut.
    const resized = { ...volume, sizeBytes: c.sizeBytes };
    txn.putVolume(
      volume.attachment === null
        ? withoutCut(resized, 'the volume was resized before every node took the snapshot')
        : resized,
    );
    return undefined;
  }

  private deleteVolume(txn: Txn, c: CommandOf<'deleteVolume'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    if (volume.attachment) {
      return refuse(
        'CONFLICT',
        `volume ${volume.name} is attached to host ${volume.attachment.host} (epoch ${volume.attachment.epoch}); detach it first`,
        { host: volume.attachment.host, epoch: volume.attachment.epoch },
      );
    }
    const clones = this.clonesBeingCopied(volume.id);
    if (clones.length > 0) {
      return refuse(
        'CONFLICT',
        `volume ${volume.name} is being copied into its clone(s) ${listSome(clones)}; delete it once they are done, or delete them`,
        { clones },
      );
    }
    txn.deleteVolume(volume.id);
    // Work on a deleted volume has no point; say so in the task rather than leave it running.
    for (const task of this.openTasksOf(txn, volume.id)) {
      finishStaged(txn, task, 'cancelled', 'volume deleted', c.at);
    }
    txn.result = null;
    return undefined;
  }

  /** Names of the clones still copying from the volume (from that snapshot, if given). */
  private clonesBeingCopied(volumeId: string, snapshotId?: string): string[] {
    const out: string[] = [];
    for (const v of this.volumesById.values()) {
      if (!v.seed || v.source?.volumeId !== volumeId) continue;
      if (snapshotId === undefined || v.source.snapshotId === snapshotId) out.push(v.name);
    }
    return out.sort(compare);
  }

  private attachVolume(txn: Txn, c: CommandOf<'attachVolume'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const holder = volume.attachment;
    if (holder && holder.host !== c.host && !c.force) {
      return refuse(
        'CONFLICT',
        `volume ${volume.name} is attached to host ${holder.host} (epoch ${holder.epoch}); detach it there first, or attach with force to fence that host`,
        { host: holder.host, epoch: holder.epoch, since: holder.since },
      );
    }
    const reverting = revertRefusal(volume, 'attach it') ?? seedRefusal(volume, 'attach it');
    if (reverting) return reverting;
    // Every attach, a re-attach by the same host included, takes a new epoch: nodes refuse
    // data-plane requests from older epochs, so whatever wrote before is fenced.
    const epoch = volume.epoch + 1;
    txn.putVolume({
      ...withoutCut(volume, 'the volume was attached again before the cut was made'),
      epoch,
      attachment: {
        host: c.host,
        epoch,
        since: c.at,
        ...(c.mountPath !== undefined ? { mountPath: c.mountPath } : {}),
      },
    });
    return undefined;
  }

  private detachVolume(txn: Txn, c: CommandOf<'detachVolume'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const holder = volume.attachment;
    if (!holder) {
      // Detach is retried by agents after lost replies; it is done already.
      txn.show('volume', volume.id);
      return undefined;
    }
    if (c.force) {
      // A forced detach fences whoever holds the volume: the new epoch is higher than theirs.
      txn.putVolume({
        ...withoutCut(volume, 'the volume was detached before the cut was made'),
        epoch: volume.epoch + 1,
        attachment: null,
      });
      return undefined;
    }
    if (holder.host !== c.host) {
      return refuse(
        'FENCED',
        `volume ${volume.name} is attached to host ${holder.host} (epoch ${holder.epoch}), not to ${c.host}`,
        { host: holder.host, epoch: holder.epoch },
      );
    }
    if (c.epoch === undefined) {
      return refuse(
        'INVALID_ARGUMENT',
        `detach of ${volume.name} needs the epoch of the attachment (or force)`,
      );
    }
    if (c.epoch !== holder.epoch) {
      return refuse(
        'FENCED',
        `epoch ${c.epoch} is stale: volume ${volume.name} was attached again by ${holder.host} at epoch ${holder.epoch}`,
        { host: holder.host, epoch: holder.epoch },
      );
    }
    txn.putVolume({
      ...withoutCut(volume, 'the volume was detached before the cut was made'),
      attachment: null,
    });
    return undefined;
  }

  // ---- snapshots (issue 16) -------------------------------------------------------------------

  private createVolumeSnapshot(
    txn: Txn,
    c: CommandOf<'createVolumeSnapshot'>,
  ): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const snapshots = volume.snapshots ?? [];
    const same = snapshots.find((s) => s.name === c.name);
    if (same !== undefined) {
      if (same.id === c.snapshotId) {
        txn.show('volume', volume.id); // a retried proposal
        return undefined;
      }
      return refuse('CONFLICT', `volume ${volume.name} already has a snapshot named ${c.name}`, {
        snapshot: c.name,
      });
    }
    const reverting =
      revertRefusal(volume, 'take the snapshot') ?? seedRefusal(volume, 'take the snapshot');
    if (reverting) return reverting;
    // Detached: the nodes of the in-sync replicas take it (D30); nothing writes to them.
    const inSync = volume.replicas.filter((r) => r.role === 'in-sync').map((r) => r.nodeId);
    if (!volume.attachment && inSync.length === 0) {
      return refuse(
        'CONFLICT',
        `volume ${volume.name} has no in-sync replica to take a snapshot from (state ${volume.state})`,
      );
    }
    const creating = snapshots.find((s) => s.state === 'creating');
    if (creating !== undefined) {
      return refuse(
        'CONFLICT',
        `volume ${volume.name} is taking snapshot ${creating.name} now; try again when it is done`,
        { snapshot: creating.name },
      );
    }
    if (snapshots.length >= MAX_SNAPSHOTS_PER_VOLUME) {
      return refuse(
        'UNPROCESSABLE',
        `volume ${volume.name} has ${snapshots.length} snapshots, the most one volume keeps; delete some first`,
      );
    }
    const seq = (volume.snapshotSeq ?? 0) + 1;
    const attachment = volume.attachment;
    const cut = attachment
      ? {
          stateReason: `waiting for the engine on ${attachment.host} to make the cut`,
          host: attachment.host,
          epoch: attachment.epoch,
        }
      : {
          stateReason: `waiting for ${inSync.join(', ')} to take it (the volume is detached)`,
          host: null,
          epoch: volume.epoch,
          waitingFor: [...inSync].sort(),
        };
    txn.putVolume({
      ...volume,
      snapshotSeq: seq,
      snapshots: [
        ...snapshots,
        {
          id: c.snapshotId,
          name: c.name,
          seq,
          state: 'creating',
          sizeBytes: volume.sizeBytes,
          createdAt: c.at,
          readyAt: null,
          nodeIds: [],
          ...cut,
        },
      ],
    });
    return undefined;
  }

  /**
   * A node reports the snapshot of a detached volume on its replica. Accepted only while the
   * volume is still detached at the cut's epoch: a report meta takes therefore describes a cut
   * made before any attach, when nothing could write (D30).
   */
  private takeVolumeSnapshot(txn: Txn, c: CommandOf<'takeVolumeSnapshot'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const snapshots = volume.snapshots ?? [];
    const snapshot = snapshots.find((s) => s.id === c.snapshotId);
    if (snapshot === undefined) {
      return refuse('NOT_FOUND', `volume ${volume.name} has no snapshot ${c.snapshotId}`);
    }
    if (snapshot.state !== 'creating' || !(snapshot.waitingFor ?? []).includes(c.nodeId)) {
      txn.show('volume', volume.id); // reported already, or decided without this node
      return undefined;
    }
    if (snapshot.host !== null || volume.attachment !== null || c.epoch !== snapshot.epoch) {
      return refuse(
        'FENCED',
        `snapshot ${snapshot.name} of ${volume.name} is not a detached cut at epoch ${c.epoch}`,
        { epoch: snapshot.epoch },
      );
    }
    let finished: VolumeSnapshot;
    if (!c.ok) {
      finished = {
        ...snapshot,
        state: 'failed',
        stateReason: clip(`${c.nodeId} could not take it: ${c.reason || 'no reason given'}`),
        nodeIds: [],
        waitingFor: [],
      };
    } else {
      const nodeIds = [...new Set([...snapshot.nodeIds, c.nodeId])].sort();
      const waitingFor = (snapshot.waitingFor ?? []).filter((id) => id !== c.nodeId);
      finished =
        waitingFor.length === 0
          ? {
              ...snapshot,
              state: 'ready',
              stateReason: `held by ${nodeIds.join(', ')}`,
              readyAt: c.at,
              nodeIds,
              waitingFor,
              pauseMs: 0,
            }
          : {
              ...snapshot,
              stateReason: `waiting for ${waitingFor.join(', ')} to take it (the volume is detached)`,
              nodeIds,
              waitingFor,
            };
    }
    txn.putVolume({
      ...volume,
      snapshots: snapshots.map((s) => (s.id === snapshot.id ? finished : s)),
    });
    return undefined;
  }

  private finishVolumeSnapshot(
    txn: Txn,
    c: CommandOf<'finishVolumeSnapshot'>,
  ): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const snapshots = volume.snapshots ?? [];
    const snapshot = snapshots.find((s) => s.id === c.snapshotId);
    if (snapshot === undefined) {
      return refuse('NOT_FOUND', `volume ${volume.name} has no snapshot ${c.snapshotId}`);
    }
    if (snapshot.state !== 'creating') {
      txn.show('volume', volume.id); // reported already
      return undefined;
    }
    if (c.epoch !== snapshot.epoch) {
      return refuse(
        'FENCED',
        `snapshot ${snapshot.name} is cut at epoch ${snapshot.epoch}, not ${c.epoch}`,
        { epoch: snapshot.epoch },
      );
    }
    if (c.ok && snapshot.host === null) {
      return refuse(
        'CONFLICT',
        `snapshot ${snapshot.name} of ${volume.name} is a detached cut: each node reports its own copy`,
      );
    }
    const nodeIds = [...new Set(c.nodeIds)].sort();
    const finished =
      c.ok && nodeIds.length > 0
        ? {
            ...snapshot,
            state: 'ready' as const,
            stateReason: `held by ${nodeIds.join(', ')}`,
            readyAt: c.at,
            nodeIds,
            pauseMs: c.pauseMs,
          }
        : {
            ...snapshot,
            state: 'failed' as const,
            stateReason: clip(c.reason || 'the cut failed'),
            nodeIds: [],
          };
    txn.putVolume({
      ...volume,
      snapshots: snapshots.map((s) => (s.id === snapshot.id ? finished : s)),
    });
    return undefined;
  }

  /**
   * Reverts a detached volume to a ready snapshot (D31): a new epoch fences every session of
   * the old one, then each node holding an in-sync replica reverts it and reports. Until then
   * the volume cannot be attached, resized or snapshotted, and no rebuild is promoted.
   */
  private revertVolume(txn: Txn, c: CommandOf<'revertVolume'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const snapshot = (volume.snapshots ?? []).find((s) => s.id === c.snapshotId);
    if (snapshot === undefined) {
      return refuse('NOT_FOUND', `volume ${volume.name} has no snapshot ${c.snapshotId}`);
    }
    if (volume.revert) {
      if (volume.revert.snapshotId === c.snapshotId) {
        txn.show('volume', volume.id); // a retried request
        return undefined;
      }
      return revertRefusal(volume, 'revert it again');
    }
    if (volume.attachment) {
      return refuse(
        'CONFLICT',
        `volume ${volume.name} is attached to ${volume.attachment.host}: detach it first (ballast volume detach ${volume.name}); a volume is reverted only while nothing uses it`,
        { host: volume.attachment.host },
      );
    }
    if (snapshot.state !== 'ready') {
      return refuse(
        'CONFLICT',
        `snapshot ${snapshot.name} of ${volume.name} is ${snapshot.state}; only a ready snapshot can be reverted to`,
        { snapshot: snapshot.name, state: snapshot.state },
      );
    }
    const creating = (volume.snapshots ?? []).find((s) => s.state === 'creating');
    if (creating) {
      return refuse(
        'CONFLICT',
        `volume ${volume.name} is taking snapshot ${creating.name} now; try again when it is done`,
        { snapshot: creating.name },
      );
    }
    const inSync = volume.replicas.filter((r) => r.role === 'in-sync').map((r) => r.nodeId);
    if (inSync.length === 0) {
      return refuse('CONFLICT', `volume ${volume.name} has no in-sync replica to revert`);
    }
    const without = inSync.filter((n) => !snapshot.nodeIds.includes(n));
    if (without.length > 0) {
      return refuse(
        'CONFLICT',
        `the in-sync replicas of ${volume.name} on ${without.join(', ')} do not hold snapshot ${snapshot.name} (they were rebuilt after it was taken, and snapshots do not travel with rebuilds yet)`,
        { snapshot: snapshot.name, nodeIds: without },
      );
    }
    const epoch = volume.epoch + 1;
    const revert: VolumeRevert = {
      snapshotId: snapshot.id,
      snapshot: snapshot.name,
      seq: snapshot.seq,
      epoch,
      waitingFor: [...inSync].sort(),
      nodeIds: [],
      startedAt: c.at,
    };
    txn.putVolume({ ...volume, epoch, revert });
    return undefined;
  }

  private reportRevert(txn: Txn, c: CommandOf<'reportRevert'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const revert = volume.revert;
    if (!revert) {
      if (c.epoch > volume.epoch) {
        return refuse('INVALID_ARGUMENT', `epoch ${c.epoch} is newer than ${volume.epoch}`);
      }
      txn.show('volume', volume.id); // done already (a retried report)
      return undefined;
    }
    if (c.epoch !== revert.epoch) {
      return refuse(
        'FENCED',
        `the revert of ${volume.name} runs at epoch ${revert.epoch}, not ${c.epoch}`,
        { epoch: revert.epoch },
      );
    }
    if (!revert.waitingFor.includes(c.nodeId) || revert.nodeIds.includes(c.nodeId)) {
      txn.show('volume', volume.id);
      return undefined;
    }
    txn.putVolume(
      settleRevert({
        ...volume,
        revert: { ...revert, nodeIds: [...revert.nodeIds, c.nodeId].sort() },
      }),
    );
    return undefined;
  }

  private deleteVolumeSnapshot(
    txn: Txn,
    c: CommandOf<'deleteVolumeSnapshot'>,
  ): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const snapshots = volume.snapshots ?? [];
    const snapshot = snapshots.find((s) => s.id === c.snapshotId);
    if (snapshot === undefined) {
      txn.show('volume', volume.id); // deleted already (a retried request)
      return undefined;
    }
    if (snapshot.state === 'creating') {
      return refuse(
        'CONFLICT',
        `snapshot ${snapshot.name} of ${volume.name} is being taken; delete it once it is ready or failed`,
        { snapshot: snapshot.name },
      );
    }
    if (volume.revert?.snapshotId === snapshot.id) {
      return revertRefusal(volume, 'delete the snapshot');
    }
    const clones = this.clonesBeingCopied(volume.id, snapshot.id);
    if (clones.length > 0) {
      return refuse(
        'CONFLICT',
        `snapshot ${volume.name}@${snapshot.name} is being copied into its clone(s) ${listSome(clones)}; delete it once they are done, or delete them`,
        { clones },
      );
    }
    txn.putVolume({ ...volume, snapshots: snapshots.filter((s) => s.id !== snapshot.id) });
    return undefined;
  }

  private markReplicaOutOfSync(
    txn: Txn,
    c: CommandOf<'markReplicaOutOfSync'>,
  ): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    if (c.epoch > volume.epoch) {
      return refuse(
        'INVALID_ARGUMENT',
        `epoch ${c.epoch} is newer than volume ${volume.name}'s epoch ${volume.epoch}`,
        { epoch: volume.epoch },
      );
    }
    // Only the current writer may shrink the in-sync set: a fenced engine must not.
    if (!volume.attachment || volume.attachment.epoch !== c.epoch) {
      const now = volume.attachment
        ? `it is attached to ${volume.attachment.host} at epoch ${volume.attachment.epoch}`
        : `it is not attached (epoch ${volume.epoch})`;
      return refuse('FENCED', `epoch ${c.epoch} no longer holds volume ${volume.name}: ${now}`, {
        epoch: volume.epoch,
        host: volume.attachment?.host ?? null,
      });
    }
    const replica = volume.replicas.find((r) => r.nodeId === c.nodeId);
    if (
      replica !== undefined &&
      c.incarnation !== undefined &&
      c.incarnation > (replica.incarnation ?? 0)
    ) {
      return refuse(
        'INVALID_ARGUMENT',
        `incarnation ${c.incarnation} of the replica on ${c.nodeId} is newer than the map's (${replica.incarnation ?? 0})`,
        { nodeId: c.nodeId, incarnation: replica.incarnation ?? 0 },
      );
    }
    const otherIncarnation =
      replica !== undefined &&
      c.incarnation !== undefined &&
      c.incarnation < (replica.incarnation ?? 0);
    if (!replica || otherIncarnation) {
      if (otherIncarnation || volume.staleReplicas.some((s) => s.nodeId === c.nodeId)) {
        // A retry after the first request committed, or the failed incarnation left and the
        // node was taken back since: the replica that failed is out of the set already.
        txn.show('volume', volume.id);
        return undefined;
      }
      return refuse('NOT_FOUND', `volume ${volume.name} has no replica on node ${c.nodeId}`, {
        nodeId: c.nodeId,
      });
    }
    const inSync = volume.replicas.filter((r) => r.role === 'in-sync');
    if (replica.role === 'in-sync' && inSync.length === 1) {
      return refuse(
        'CONFLICT',
        `the replica on ${c.nodeId} is the last in-sync replica of volume ${volume.name}; it stays in the set (removing it would leave no up-to-date copy), so the failed write cannot be acknowledged`,
        { nodeId: c.nodeId },
      );
    }
    this.demote(txn, volume, c.nodeId, c.epoch, c.reason, c.at);
    return undefined;
  }

  /** Moves a member to the stale records; work that was making it a replica stops. */
  private demote(
    txn: Txn,
    volume: VolumeRecord,
    nodeId: string,
    epoch: number,
    reason: string,
    at: number,
    idle = false,
  ): void {
    // A new incarnation for the copy: its node persists it, refusing the member's sessions.
    const stale: StaleReplica = {
      nodeId,
      since: at,
      epoch,
      reason,
      incarnation: txn.logIndex,
      ...(idle ? { idle } : {}),
    };
    txn.putVolume({
      ...volume,
      replicas: volume.replicas.filter((r) => r.nodeId !== nodeId),
      staleReplicas: boundStale([
        ...volume.staleReplicas.filter((s) => s.nodeId !== nodeId),
        stale,
      ]),
    });
    for (const task of this.openTasksOf(txn, volume.id)) {
      if ((task.kind === 'rebuild' || task.kind === 'move') && task.nodeId === nodeId) {
        finishStaged(txn, task, 'cancelled', clip(`replica left the set: ${reason}`), at);
      }
    }
  }

  private markReplicaLost(txn: Txn, c: CommandOf<'markReplicaLost'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    if (c.epoch !== volume.epoch) {
      return refuse(
        'FENCED',
        `volume ${volume.name} is at epoch ${volume.epoch}, not ${c.epoch}: it was attached since`,
        { epoch: volume.epoch },
      );
    }
    if (volume.attachment) {
      return refuse(
        'CONFLICT',
        `volume ${volume.name} is attached to ${volume.attachment.host}; its engine decides which replicas are in sync`,
        { host: volume.attachment.host, epoch: volume.attachment.epoch },
      );
    }
    const replica = volume.replicas.find((r) => r.nodeId === c.nodeId);
    if (!replica) {
      if (volume.staleReplicas.some((s) => s.nodeId === c.nodeId)) {
        txn.show('volume', volume.id);
        return undefined;
      }
      return refuse('NOT_FOUND', `volume ${volume.name} has no replica on node ${c.nodeId}`, {
        nodeId: c.nodeId,
      });
    }
    const node = this.nodesById.get(c.nodeId);
    if (node && isLive(node)) {
      return refuse(
        'CONFLICT',
        `node ${c.nodeId} is ${node.state}; only a replica on a down node is lost`,
        { nodeId: c.nodeId },
      );
    }
    const inSync = volume.replicas.filter((r) => r.role === 'in-sync');
    if (replica.role === 'in-sync' && inSync.length === 1) {
      return refuse(
        'CONFLICT',
        `the replica on ${c.nodeId} is the last in-sync replica of volume ${volume.name}; it stays in the set until its node returns`,
        { nodeId: c.nodeId },
      );
    }
    // An in-sync copy leaving an idle volume holds every write; a rebuilding one does not, nor
    // one whose node has not reverted it yet (it holds what the volume held before the revert).
    const missedRevert =
      volume.revert !== undefined &&
      volume.revert !== null &&
      !volume.revert.nodeIds.includes(c.nodeId);
    this.demote(
      txn,
      volume,
      c.nodeId,
      volume.epoch,
      c.reason,
      c.at,
      replica.role === 'in-sync' && !missedRevert,
    );
    const after = txn.volume(volume.id);
    if (after?.revert) txn.putVolume(settleRevert(after));
    return undefined;
  }

  private addReplica(txn: Txn, c: CommandOf<'addReplica'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    if (volume.replicas.some((r) => r.nodeId === c.nodeId)) {
      return refuse('CONFLICT', `volume ${volume.name} already has a replica on node ${c.nodeId}`, {
        nodeId: c.nodeId,
      });
    }
    if (volume.replicas.length >= MAX_REPLICA_SET_SIZE) {
      return refuse(
        'UNPROCESSABLE',
        `volume ${volume.name} already has ${volume.replicas.length} replicas, the most a set may hold`,
      );
    }
    if (
      c.replacing !== undefined &&
      !volume.replicas.some((r) => r.nodeId === c.replacing) &&
      !volume.staleReplicas.some((s) => s.nodeId === c.replacing)
    ) {
      return refuse(
        'NOT_FOUND',
        `volume ${volume.name} has no replica on node ${c.replacing} to replace`,
        {
          nodeId: c.replacing,
        },
      );
    }
    if (c.replacing === c.nodeId) {
      return refuse('INVALID_ARGUMENT', `a replica on ${c.nodeId} cannot replace itself`, {
        nodeId: c.nodeId,
      });
    }
    const peers = volume.replicas.map((r) => r.nodeId).filter((id) => id !== c.replacing);
    const why = this.replicaPlacementRefusal(txn, c.nodeId, volume, peers);
    if (why) return why;
    const newTasks = c.replacing === undefined ? 1 : 2;
    if (this.activeTaskCount + newTasks > MAX_ACTIVE_TASKS) {
      return refuse(
        'UNPROCESSABLE',
        `the cluster map holds at most ${MAX_ACTIVE_TASKS} unfinished tasks; a rebuild needs one`,
      );
    }
    const rebuildId = c.taskId ?? this.freeTaskId(txn, `rebuild-${txn.logIndex}`);
    if (this.tasksById.has(rebuildId)) {
      return refuse('CONFLICT', `task id ${rebuildId} is already in use`, { taskId: rebuildId });
    }
    const stale = volume.staleReplicas.find((s) => s.nodeId === c.nodeId);
    // No writer since this copy left (same epoch, nothing attached): it is whole as it is.
    const whole =
      stale?.idle === true && stale.epoch === volume.epoch && volume.attachment === null;
    // A rebuild restarted from scratch supersedes any earlier unfinished one for this replica.
    for (const task of this.openTasksOf(txn, volume.id)) {
      if (task.kind === 'rebuild' && task.nodeId === c.nodeId) {
        finishStaged(txn, task, 'cancelled', 'superseded by a new rebuild', c.at);
      }
    }
    txn.putVolume({
      ...volume,
      replicas: [
        ...volume.replicas,
        {
          nodeId: c.nodeId,
          role: whole ? 'in-sync' : 'rebuilding',
          since: c.at,
          incarnation: txn.logIndex,
        },
      ],
      // The rebuild takes over the stale copy on that node (and can copy only what changed).
      staleReplicas: volume.staleReplicas.filter((s) => s.nodeId !== c.nodeId),
    });
    if (whole) {
      txn.show('volume', volume.id);
      return undefined;
    }
    const source = this.rebuildSource(volume, c.replacing);
    txn.putTask({
      id: rebuildId,
      kind: 'rebuild',
      volumeId: volume.id,
      nodeId: c.nodeId,
      sourceNodeId: source,
      state: 'pending',
      doneBytes: 0,
      totalBytes: volume.sizeBytes,
      message: clip(
        stale
          ? `delta rebuild of ${volume.name} on ${c.nodeId} from ${source} (its copy is from epoch ${stale.epoch})`
          : `rebuild of ${volume.name} on ${c.nodeId} from ${source}`,
      ),
      createdAt: c.at,
      updatedAt: c.at,
      finishedAt: null,
    });
    if (c.replacing !== undefined) {
      txn.putTask({
        id: this.freeTaskId(txn, `move-${rebuildId}`),
        kind: 'move',
        volumeId: volume.id,
        nodeId: c.nodeId,
        sourceNodeId: c.replacing,
        state: 'pending',
        doneBytes: 0,
        totalBytes: volume.sizeBytes,
        message: clip(`move ${volume.name} from ${c.replacing} to ${c.nodeId}`),
        createdAt: c.at,
        updatedAt: c.at,
        finishedAt: null,
      });
    }
    txn.show('volume', volume.id);
    return undefined;
  }

  /**
   * The in-sync replica a rebuild copies from: the one being replaced when it is in sync and
   * live (a move copies from where the data leaves), else the first live in-sync one by id.
   */
  private rebuildSource(volume: VolumeRecord, replacing: string | undefined): string {
    const inSync = volume.replicas.filter((r) => r.role === 'in-sync').map((r) => r.nodeId);
    const live = inSync.filter((id) => {
      const node = this.nodesById.get(id);
      return node !== undefined && isLive(node);
    });
    if (replacing !== undefined && live.includes(replacing)) return replacing;
    const pick = [...(live.length > 0 ? live : inSync)].sort(compare)[0];
    assert(pick !== undefined, `volume ${volume.id} has an in-sync replica`);
    return pick;
  }

  /** `base`, or `base-2`, `base-3`... when a task already has that id. */
  private freeTaskId(txn: Txn, base: string): string {
    let id = base.slice(0, 56);
    for (let i = 2; this.tasksById.has(id) || txn.tasks.has(id); i++)
      id = `${base.slice(0, 56)}-${i}`;
    return id;
  }

  /** Unfinished tasks of a volume, staged changes included, sorted by id. */
  private openTasksOf(txn: Txn, volumeId: string): TaskRecord[] {
    const ids = new Set(this.openTasksByVolume.get(volumeId) ?? []);
    for (const [id, task] of txn.tasks) if (task?.volumeId === volumeId) ids.add(id);
    const out: TaskRecord[] = [];
    for (const id of [...ids].sort(compare)) {
      const task = txn.task(id);
      if (task && task.finishedAt === null) out.push(task);
    }
    return out;
  }

  private promoteReplica(txn: Txn, c: CommandOf<'promoteReplica'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const replica = volume.replicas.find((r) => r.nodeId === c.nodeId);
    if (!replica) {
      return refuse('NOT_FOUND', `volume ${volume.name} has no replica on node ${c.nodeId}`, {
        nodeId: c.nodeId,
      });
    }
    if (c.incarnation !== undefined && (replica.incarnation ?? 0) !== c.incarnation) {
      return refuse(
        'CONFLICT',
        `the rebuild of ${volume.name} on ${c.nodeId} copied to incarnation ${c.incarnation}, but the replica there is incarnation ${replica.incarnation ?? 0} now (it left the set and came back): rebuild again`,
        { nodeId: c.nodeId, incarnation: replica.incarnation ?? 0 },
      );
    }
    if (replica.role === 'in-sync') {
      txn.show('volume', volume.id);
      return undefined;
    }
    if (c.epoch !== volume.epoch) {
      return refuse(
        'FENCED',
        `the rebuild of ${volume.name} on ${c.nodeId} ran at epoch ${c.epoch} but the volume is at epoch ${volume.epoch}; it may have missed writes: rebuild again`,
        { epoch: volume.epoch },
      );
    }
    // Its sources may still be reverting: a copy verified against them now may be half old.
    const reverting = revertRefusal(volume, 'rebuild it again');
    if (reverting) return reverting;
    // A clone's first copy comes from the snapshot; every other replica from that one.
    if (volume.seed && volume.seed.nodeId !== c.nodeId) {
      return seedRefusal(volume, `rebuild the replica on ${c.nodeId} from it`);
    }
    const node = this.nodesById.get(c.nodeId);
    if (!node || !isLive(node)) {
      return refuse(
        'CONFLICT',
        `node ${c.nodeId} is ${node?.state ?? 'missing'}; a replica there cannot become in-sync`,
        {
          nodeId: c.nodeId,
        },
      );
    }
    // A finished rebuild copied what the in-sync replicas hold: it takes their (largest) used
    // figure, not the partial one its node reported while copying; the node corrects it later.
    let inheritedUsedBytes: number | undefined;
    for (const r of volume.replicas) {
      if (r.role !== 'in-sync' || r.usedBytes === undefined) continue;
      inheritedUsedBytes = Math.max(inheritedUsedBytes ?? 0, r.usedBytes);
    }
    txn.putVolume({
      ...volume,
      ...(volume.seed ? { seed: null } : {}),
      replicas: volume.replicas.map((r) =>
        r.nodeId === c.nodeId
          ? {
              nodeId: r.nodeId,
              role: 'in-sync' as const,
              since: c.at,
              ...(r.incarnation !== undefined ? { incarnation: r.incarnation } : {}),
              ...(inheritedUsedBytes !== undefined ? { usedBytes: inheritedUsedBytes } : {}),
            }
          : r,
      ),
    });
    for (const task of this.openTasksOf(txn, volume.id)) {
      if (task.nodeId !== c.nodeId) continue;
      if (task.kind === 'rebuild') {
        finishStaged(txn, task, 'succeeded', clip(`${c.nodeId} in sync at epoch ${c.epoch}`), c.at);
      } else if (task.kind === 'move') {
        // A move ends when the replica it replaces is removed (see removeReplica).
        txn.tasks.set(task.id, {
          ...task,
          state: 'running',
          startedAt: task.startedAt ?? c.at,
          doneBytes: task.totalBytes,
          message: clip(
            `${c.nodeId} in sync; the replica on ${task.sourceNodeId} is to be removed`,
          ),
          updatedAt: c.at,
        });
      }
    }
    txn.show('volume', volume.id);
    return undefined;
  }

  private removeReplica(txn: Txn, c: CommandOf<'removeReplica'>): Refusal | undefined {
    const volume = this.volumeOrRefusal(c.volumeId);
    if ('refused' in volume) return volume;
    const replica = volume.replicas.find((r) => r.nodeId === c.nodeId);
    const hasStale = volume.staleReplicas.some((s) => s.nodeId === c.nodeId);
    if (!replica && !hasStale) {
      return refuse('NOT_FOUND', `volume ${volume.name} has no replica on node ${c.nodeId}`, {
        nodeId: c.nodeId,
      });
    }
    if (replica?.role === 'in-sync') {
      const remaining = volume.replicas.filter((r) => r.role === 'in-sync').length - 1;
      if (remaining === 0) {
        return refuse(
          'CONFLICT',
          `the replica on ${c.nodeId} is the last in-sync replica of volume ${volume.name}; it cannot be removed`,
          { nodeId: c.nodeId },
        );
      }
      if (remaining < volume.desiredReplicas && !c.force) {
        return refuse(
          'CONFLICT',
          `removing the replica on ${c.nodeId} would leave ${remaining} in-sync replica(s) of ${volume.name}, fewer than the ${volume.desiredReplicas} desired; add a replacement first or use force`,
          { nodeId: c.nodeId, remaining, desired: volume.desiredReplicas },
        );
      }
    }
    const next: VolumeRecord = {
      ...volume,
      replicas: volume.replicas.filter((r) => r.nodeId !== c.nodeId),
      staleReplicas: volume.staleReplicas.filter((s) => s.nodeId !== c.nodeId),
    };
    txn.putVolume(next);
    for (const task of this.openTasksOf(txn, volume.id)) {
      if ((task.kind === 'rebuild' || task.kind === 'move') && task.nodeId === c.nodeId) {
        finishStaged(txn, task, 'cancelled', `the replica on ${c.nodeId} was removed`, c.at);
      } else if (task.kind === 'move' && task.sourceNodeId === c.nodeId) {
        const target = next.replicas.find((r) => r.nodeId === task.nodeId);
        if (target?.role === 'in-sync') {
          finishStaged(
            txn,
            task,
            'succeeded',
            clip(`moved from ${c.nodeId} to ${task.nodeId}`),
            c.at,
          );
        } else {
          finishStaged(
            txn,
            task,
            'cancelled',
            clip(`the replica on ${c.nodeId} was removed before ${task.nodeId ?? '?'} was in sync`),
            c.at,
          );
        }
      }
    }
    txn.show('volume', volume.id);
    return undefined;
  }

  // ---- tasks and settings --------------------------------------------------------------------

  private createTask(txn: Txn, c: CommandOf<'createTask'>): Refusal | undefined {
    if (this.tasksById.has(c.taskId)) {
      return refuse('CONFLICT', `task id ${c.taskId} is already in use`, { taskId: c.taskId });
    }
    if (this.activeTaskCount >= MAX_ACTIVE_TASKS) {
      return refuse(
        'UNPROCESSABLE',
        `the cluster map holds at most ${MAX_ACTIVE_TASKS} unfinished tasks`,
      );
    }
    if (c.volumeId !== undefined && !this.volumesById.has(c.volumeId)) {
      return refuse('NOT_FOUND', `volume ${c.volumeId} does not exist`, { volumeId: c.volumeId });
    }
    if (c.kind === 'drain' && c.nodeId !== undefined && this.openDrainTaskByNode.has(c.nodeId)) {
      return refuse(
        'CONFLICT',
        `node ${c.nodeId} already has an unfinished drain task (${this.openDrainTaskByNode.get(c.nodeId)!})`,
        { taskId: this.openDrainTaskByNode.get(c.nodeId)! },
      );
    }
    for (const nodeId of [c.nodeId, c.sourceNodeId]) {
      if (nodeId !== undefined && !this.nodesById.has(nodeId)) {
        return refuse('NOT_FOUND', `node ${nodeId} does not exist`, { nodeId });
      }
    }
    txn.putTask({
      id: c.taskId,
      kind: c.kind,
      volumeId: c.volumeId ?? null,
      nodeId: c.nodeId ?? null,
      sourceNodeId: c.sourceNodeId ?? null,
      state: 'pending',
      doneBytes: 0,
      totalBytes: c.totalBytes,
      message: c.message ?? '',
      createdAt: c.at,
      updatedAt: c.at,
      finishedAt: null,
    });
    return undefined;
  }

  private updateTask(txn: Txn, c: CommandOf<'updateTask'>): Refusal | undefined {
    const task = this.tasksById.get(c.taskId);
    if (!task) return refuse('NOT_FOUND', `task ${c.taskId} does not exist`, { taskId: c.taskId });
    if (task.finishedAt !== null) {
      return refuse('CONFLICT', `task ${c.taskId} already finished (${task.state})`, {
        state: task.state,
      });
    }
    const totalBytes = c.totalBytes ?? task.totalBytes;
    if (c.doneBytes > totalBytes) {
      return refuse(
        'UNPROCESSABLE',
        `task ${c.taskId}: done ${c.doneBytes} bytes exceeds total ${totalBytes}`,
      );
    }
    const next: TaskRecord = {
      ...task,
      state: 'running',
      startedAt: task.startedAt ?? c.at,
      doneBytes: c.doneBytes,
      totalBytes,
      message: c.message ?? task.message,
      updatedAt: c.at,
    };
    // A move's progress is its rebuild's progress (until the old replica goes).
    if (task.kind === 'rebuild' && task.volumeId !== null) {
      for (const move of this.openTasksOf(txn, task.volumeId)) {
        if (move.kind !== 'move' || move.nodeId !== task.nodeId) continue;
        const done = Math.min(
          move.totalBytes,
          Math.floor((c.doneBytes * move.totalBytes) / Math.max(1, totalBytes)),
        );
        if (done !== move.doneBytes || move.state !== 'running') {
          txn.tasks.set(move.id, {
            ...move,
            state: 'running',
            startedAt: move.startedAt ?? c.at,
            doneBytes: done,
            updatedAt: c.at,
          });
        }
      }
    }
    txn.putTask(next);
    return undefined;
  }

  private finishTask(txn: Txn, c: CommandOf<'finishTask'>): Refusal | undefined {
    const task = this.tasksById.get(c.taskId);
    if (!task) return refuse('NOT_FOUND', `task ${c.taskId} does not exist`, { taskId: c.taskId });
    if (task.finishedAt !== null) {
      if (task.state === c.outcome) {
        txn.show('task', task.id);
        return undefined;
      }
      return refuse('CONFLICT', `task ${c.taskId} already finished (${task.state})`, {
        state: task.state,
      });
    }
    finishStaged(txn, task, c.outcome, c.message ?? task.message, c.at);
    txn.show('task', task.id);
    return undefined;
  }

  private updateSettings(txn: Txn, c: CommandOf<'updateSettings'>): Refusal | undefined {
    const current = this.currentSettings;
    const next: Settings = {
      overProvisionPercent: c.overProvisionPercent ?? current.overProvisionPercent,
      rebalanceEnabled: c.rebalanceEnabled ?? current.rebalanceEnabled,
      replicaReplacementGraceMs: c.replicaReplacementGraceMs ?? current.replicaReplacementGraceMs,
      rebuildBandwidthBytesPerSecond:
        c.rebuildBandwidthBytesPerSecond ?? current.rebuildBandwidthBytesPerSecond,
      maxConcurrentMoves: c.maxConcurrentMoves ?? current.maxConcurrentMoves,
      rebalanceMarginPercent: c.rebalanceMarginPercent ?? current.rebalanceMarginPercent,
    };
    if (!sameJson(next, current)) txn.settings = next;
    txn.show('settings', 'settings');
    return undefined;
  }

  /**
   * Keeps the history bounded: when this command finishes tasks beyond the limit, the oldest
   * finished ones (by finish time, then id) are dropped in the same commit.
   */
  private boundFinishedTasks(txn: Txn): void {
    let count = this.finishedTaskCount;
    for (const [id, task] of txn.tasks) {
      const before = this.tasksById.get(id);
      const wasFinished = before !== undefined && before.finishedAt !== null;
      const isFinished = task !== null && task.finishedAt !== null;
      count += Number(isFinished) - Number(wasFinished);
    }
    for (let i = 0; count > MAX_FINISHED_TASKS && i < this.finishedOrder.length; i++) {
      const id = this.finishedOrder[i]!.id;
      if (txn.tasks.has(id)) continue;
      txn.deleteTask(id);
      count--;
    }
  }

  // ---- commit --------------------------------------------------------------------------------

  /**
   * Recomputes the state of every volume the command touched, and of every volume with a replica
   * on a node whose state changed, so `state`/`stateReason` are always current in the map.
   */
  private refreshHealth(txn: Txn): void {
    const affected = new Set<string>();
    for (const [id, volume] of txn.volumes) if (volume) affected.add(id);
    for (const [id, node] of txn.nodes) {
      if (this.nodesById.get(id)?.state !== node.state) {
        for (const volumeId of this.volumesByNode.get(id) ?? []) affected.add(volumeId);
      }
    }
    for (const id of [...affected].sort(compare)) {
      const volume = txn.volume(id);
      if (!volume) continue;
      const health = volumeHealth(volume, (nodeId) => txn.node(nodeId));
      if (health.state !== volume.state || health.stateReason !== volume.stateReason) {
        txn.volumes.set(id, { ...volume, ...health });
      }
    }
  }

  /**
   * A snapshot lists the nodes that hold it; a node whose copy of the volume was removed (not
   * only demoted: a stale copy keeps its snapshots and may rejoin) holds it no more. A ready
   * snapshot left with no holder is lost and says so: snapshots do not travel with rebuilds yet.
   */
  private refreshSnapshotHolders(txn: Txn): void {
    for (const [id, changed] of [...txn.volumes].sort((a, b) => compare(a[0], b[0]))) {
      if (!changed || !changed.snapshots?.length) continue;
      const volume = txn.volume(id)!;
      const holders = new Set([
        ...volume.replicas.map((r) => r.nodeId),
        ...volume.staleReplicas.map((r) => r.nodeId),
      ]);
      let touched = false;
      const snapshots = volume.snapshots!.map((snap) => {
        if (snap.nodeIds.every((n) => holders.has(n))) return snap;
        touched = true;
        const nodeIds = snap.nodeIds.filter((n) => holders.has(n));
        if (snap.state !== 'ready') return { ...snap, nodeIds };
        if (nodeIds.length === 0) {
          return {
            ...snap,
            state: 'failed' as const,
            stateReason: clip(
              `lost: the replicas that held it (${snap.nodeIds.join(', ')}) are gone, and snapshots do not travel with rebuilds yet`,
            ),
            nodeIds,
          };
        }
        return { ...snap, nodeIds, stateReason: `held by ${nodeIds.join(', ')}` };
      });
      if (touched) txn.volumes.set(id, { ...volume, snapshots });
    }
  }

  /**
   * A clone whose copying node no longer holds one of its replicas (the node went down and its
   * replica was replaced) gets its first copy from another of its replicas.
   */
  private refreshSeeds(txn: Txn): void {
    for (const [id, changed] of [...txn.volumes].sort((a, b) => compare(a[0], b[0]))) {
      if (!changed?.seed) continue;
      const volume = txn.volume(id)!;
      const seed = volume.seed!;
      if (volume.replicas.some((r) => r.nodeId === seed.nodeId)) continue;
      const next = volume.replicas.map((r) => r.nodeId).sort(compare)[0];
      if (next !== undefined) txn.volumes.set(id, { ...volume, seed: { ...seed, nodeId: next } });
    }
  }

  private commit(txn: Txn): MapChange[] {
    const changes: MapChange[] = [];
    for (const [id, node] of [...txn.nodes].sort((a, b) => compare(a[0], b[0]))) {
      if (!sameJson(this.nodesById.get(id), node)) changes.push({ kind: 'node', id, value: node });
    }
    for (const [id, volume] of [...txn.volumes].sort((a, b) => compare(a[0], b[0]))) {
      const current = this.volumesById.get(id);
      if (volume === null ? current !== undefined : !sameJson(current, volume)) {
        changes.push({ kind: 'volume', id, value: volume });
      }
    }
    for (const [id, task] of [...txn.tasks].sort((a, b) => compare(a[0], b[0]))) {
      const current = this.tasksById.get(id);
      if (task === null ? current !== undefined : !sameJson(current, task)) {
        changes.push({ kind: 'task', id, value: task });
      }
    }
    if (txn.settings) changes.push({ kind: 'settings', id: 'settings', value: txn.settings });
    if (changes.length === 0) return changes;

    this.currentRevision++;
    for (const change of changes) {
      deepFreeze(change.value);
      switch (change.kind) {
        case 'node':
          this.nodesById.set(change.id, change.value);
          this.sortedNodes = null;
          break;
        case 'volume':
          // An update keeps the sort order (names never change); an add or delete does not.
          if (change.value === null || !this.volumesById.has(change.id)) {
            this.sortedVolumeIds = null;
          }
          this.unindexVolume(change.id);
          if (change.value) this.indexVolume(change.value);
          break;
        case 'task':
          if (change.value === null || !this.tasksById.has(change.id)) this.sortedTaskIds = null;
          this.unindexTask(change.id);
          if (change.value) this.indexTask(change.value);
          break;
        case 'settings':
          this.currentSettings = change.value;
          break;
      }
    }
    return changes;
  }

  private indexVolume(volume: VolumeRecord): void {
    this.volumesById.set(volume.id, volume);
    this.volumeIdByName.set(volume.name, volume.id);
    for (const replica of volume.replicas) {
      let set = this.volumesByNode.get(replica.nodeId);
      if (!set) this.volumesByNode.set(replica.nodeId, (set = new Set()));
      set.add(volume.id);
      this.provisioned.set(
        replica.nodeId,
        this.provisionedBytes(replica.nodeId) + volume.sizeBytes,
      );
    }
    this.sortedVolumes = null;
  }

  private unindexVolume(id: string): void {
    const volume = this.volumesById.get(id);
    if (!volume) return;
    this.volumesById.delete(id);
    this.volumeIdByName.delete(volume.name);
    for (const replica of volume.replicas) {
      const set = this.volumesByNode.get(replica.nodeId);
      set?.delete(id);
      if (set?.size === 0) this.volumesByNode.delete(replica.nodeId);
      const left = this.provisionedBytes(replica.nodeId) - volume.sizeBytes;
      if (left === 0) this.provisioned.delete(replica.nodeId);
      else this.provisioned.set(replica.nodeId, left);
    }
    this.sortedVolumes = null;
  }

  private indexTask(task: TaskRecord): void {
    this.tasksById.set(task.id, task);
    if (task.finishedAt === null) {
      this.activeTaskCount++;
      if (task.volumeId !== null) {
        let set = this.openTasksByVolume.get(task.volumeId);
        if (!set) this.openTasksByVolume.set(task.volumeId, (set = new Set()));
        set.add(task.id);
      }
      if (task.kind === 'drain' && task.nodeId !== null) {
        this.openDrainTaskByNode.set(task.nodeId, task.id);
      }
    } else {
      this.finishedTaskCount++;
      const key = { finishedAt: task.finishedAt, id: task.id };
      this.finishedOrder.splice(finishedPosition(this.finishedOrder, key), 0, key);
    }
    this.sortedTasks = null;
  }

  private unindexTask(id: string): void {
    const task = this.tasksById.get(id);
    if (!task) return;
    this.tasksById.delete(id);
    if (task.finishedAt === null) {
      this.activeTaskCount--;
      if (task.volumeId !== null) {
        const set = this.openTasksByVolume.get(task.volumeId);
        set?.delete(id);
        if (set?.size === 0) this.openTasksByVolume.delete(task.volumeId);
      }
      if (task.kind === 'drain' && task.nodeId !== null) {
        if (this.openDrainTaskByNode.get(task.nodeId) === id) {
          this.openDrainTaskByNode.delete(task.nodeId);
        }
      }
    } else {
      this.finishedTaskCount--;
      const key = { finishedAt: task.finishedAt, id };
      const at = finishedPosition(this.finishedOrder, key);
      assert(this.finishedOrder[at]?.id === id, `finished task ${id} is in the history order`);
      this.finishedOrder.splice(at, 1);
    }
    this.sortedTasks = null;
  }
}

/** Where `key` is (or goes) in the history order: by finish time, then id. */
function finishedPosition(
  order: ReadonlyArray<{ finishedAt: number; id: string }>,
  key: { finishedAt: number; id: string },
): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = order[mid]!;
    if (m.finishedAt < key.finishedAt || (m.finishedAt === key.finishedAt && m.id < key.id)) {
      lo = mid + 1;
    } else hi = mid;
  }
  return lo;
}

function isOpenDrain(task: TaskRecord | null): task is TaskRecord {
  return task !== null && task.kind === 'drain' && task.finishedAt === null && task.nodeId !== null;
}

/** Stages the end of a task (its final state; success counts every byte as done). */
function finishStaged(
  txn: Txn,
  task: TaskRecord,
  outcome: TaskOutcome,
  message: string,
  at: number,
): void {
  txn.tasks.set(task.id, {
    ...task,
    state: outcome,
    doneBytes: outcome === 'succeeded' ? task.totalBytes : task.doneBytes,
    message: clip(message),
    updatedAt: at,
    finishedAt: at,
  });
}

/**
 * Snapshots of an older format, brought to the current one before they are checked: format 1
 * lacks the control-loop settings, which take their defaults.
 */
function upgradeSnapshot(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const snap = input as { format?: unknown; settings?: unknown };
  if (snap.format !== 1) return input;
  const settings = typeof snap.settings === 'object' && snap.settings !== null ? snap.settings : {};
  return { ...snap, format: SNAPSHOT_FORMAT, settings: { ...DEFAULT_SETTINGS, ...settings } };
}

function boundStale(stale: StaleReplica[]): StaleReplica[] {
  if (stale.length <= MAX_STALE_REPLICAS) return stale;
  const oldestFirst = [...stale].sort((a, b) => a.since - b.since || compare(a.nodeId, b.nodeId));
  const drop = new Set(
    oldestFirst.slice(0, stale.length - MAX_STALE_REPLICAS).map((s) => s.nodeId),
  );
  return stale.filter((s) => !drop.has(s.nodeId));
}

/** Code-unit order: the same on every member whatever its locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
