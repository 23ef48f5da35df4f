import { Type, type Static } from '@sinclair/typebox';
import {
  ADDRESS_PATTERN,
  ID_PATTERN,
  LABEL_KEY_PATTERN,
  LABEL_VALUE_PATTERN,
  MAX_ADDRESS_LENGTH,
  MAX_CHUNK_SIZE_BYTES,
  MAX_LABELS,
  DEFAULT_MAX_CONCURRENT_MOVES,
  DEFAULT_OVER_PROVISION_PERCENT,
  DEFAULT_REBALANCE_MARGIN_PERCENT,
  DEFAULT_REBUILD_BANDWIDTH_BYTES_PER_SECOND,
  DEFAULT_REPLICA_REPLACEMENT_GRACE_MS,
  MAX_CONCURRENT_MOVES,
  MAX_OVER_PROVISION_PERCENT,
  MAX_REBALANCE_MARGIN_PERCENT,
  MAX_REBUILD_BANDWIDTH_BYTES_PER_SECOND,
  MAX_REPLICA_REPLACEMENT_GRACE_MS,
  MAX_REASON_LENGTH,
  MAX_REPLICA_SET_SIZE,
  MAX_REPLICAS,
  MAX_REPLICA_TIMEOUT_MS,
  MAX_STALE_REPLICAS,
  MAX_VOLUME_SIZE_BYTES,
  MIN_CHUNK_SIZE_BYTES,
  MIN_OVER_PROVISION_PERCENT,
  MIN_REBALANCE_MARGIN_PERCENT,
  MIN_REPLICAS,
  MIN_REPLICA_TIMEOUT_MS,
  VOLUME_NAME_PATTERN,
} from './limits.js';

/**
 * TypeBox schemas of everything the cluster map holds. They are the single source for the
 * snapshot format, the command payloads and the REST API's response schemas.
 */

export const IdSchema = Type.String({ pattern: ID_PATTERN, minLength: 1, maxLength: 63 });
export const VolumeNameSchema = Type.String({
  pattern: VOLUME_NAME_PATTERN,
  minLength: 1,
  maxLength: 63,
});
export const AddressSchema = Type.String({
  pattern: ADDRESS_PATTERN,
  minLength: 3,
  maxLength: MAX_ADDRESS_LENGTH,
});
export const ReasonSchema = Type.String({ maxLength: MAX_REASON_LENGTH });
/** Milliseconds since the Unix epoch, filled in by the leader before it proposes a command. */
export const TimestampSchema = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const BytesSchema = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const EpochSchema = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const LabelsSchema = Type.Record(
  Type.String({ pattern: LABEL_KEY_PATTERN }),
  Type.String({ pattern: LABEL_VALUE_PATTERN, maxLength: 63 }),
  { maxProperties: MAX_LABELS, additionalProperties: false },
);
export type Labels = Static<typeof LabelsSchema>;

export const NodeStateSchema = Type.Union([
  Type.Literal('up'),
  Type.Literal('down'),
  Type.Literal('cordoned'),
  Type.Literal('draining'),
  Type.Literal('removed'),
]);
export type NodeState = Static<typeof NodeStateSchema>;

/** What an operator asked for; `state` combines it with liveness. */
export const SchedulingSchema = Type.Union([
  Type.Literal('active'),
  Type.Literal('cordoned'),
  Type.Literal('draining'),
]);
export type Scheduling = Static<typeof SchedulingSchema>;

export const NodeRecordSchema = Type.Object(
  {
    id: IdSchema,
    address: AddressSchema,
    labels: LabelsSchema,
    capacityBytes: BytesSchema,
    usedBytes: BytesSchema,
    /**
     * Free space the node's file system has left, as last reported (absent: never reported).
     * Replicas are thin, so a node can run out of disk long before its provisioned bytes reach
     * its capacity: a node with almost none left takes no replica (see `isDiskFull`).
     */
    availableBytes: Type.Optional(BytesSchema),
    /** Effective state: removed > down > draining > cordoned > up. */
    state: NodeStateSchema,
    scheduling: SchedulingSchema,
    reachable: Type.Boolean(),
    stateSince: TimestampSchema,
    stateReason: ReasonSchema,
    registeredAt: TimestampSchema,
  },
  { additionalProperties: false },
);
export type NodeRecord = Static<typeof NodeRecordSchema>;

export const ReplicaRoleSchema = Type.Union([Type.Literal('in-sync'), Type.Literal('rebuilding')]);
export type ReplicaRole = Static<typeof ReplicaRoleSchema>;

export const ReplicaSchema = Type.Object(
  {
    nodeId: IdSchema,
    role: ReplicaRoleSchema,
    since: TimestampSchema,
    /**
     * This replica's incarnation (D17): the log index of the command that put it in the set
     * (createVolume, addReplica). A promotion keeps it. Every data-plane session to the replica
     * carries it, and its node refuses sessions of an earlier one, so writes an engine gave up
     * on can never land after the replica left the set. Absent in maps from before it (read as 0).
     */
    incarnation: Type.Optional(EpochSchema),
    /**
     * Bytes the replica really occupies on its node (thin: only what was written), as its node
     * last reported it (reportReplicaUsage, sent when it changed by at least max(64 MiB, 5% of
     * the volume size)). Absent: not reported yet (a new replica, or a map from before nodes
     * reported it); rebalance then counts the volume's largest known figure, else 0.
     */
    usedBytes: Type.Optional(BytesSchema),
  },
  { additionalProperties: false },
);
export type Replica = Static<typeof ReplicaSchema>;

/**
 * A replica dropped from the set (it missed a write). Its node keeps the data so that a later
 * rebuild on the same node copies only the chunks that changed; nodes delete replica data only
 * when the volume holds neither a replica nor a stale record on them.
 */
export const StaleReplicaSchema = Type.Object(
  {
    nodeId: IdSchema,
    since: TimestampSchema,
    epoch: EpochSchema,
    reason: ReasonSchema,
    /**
     * The log index of the demotion (D17), above the incarnation the copy had as a member: its
     * node persists it, so sessions of the member it was are refused from then on.
     */
    incarnation: Type.Optional(EpochSchema),
    /**
     * It left while nobody had the volume attached (its node went down), holding every write
     * up to `epoch`. While the volume stays at that epoch (no attach since, so no write), the
     * copy is complete: adding it back makes it in-sync at once, with nothing to copy.
     */
    idle: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);
export type StaleReplica = Static<typeof StaleReplicaSchema>;

/** An absolute path on the attaching host (where the agent mounts the volume's filesystem). */
export const MountPathSchema = Type.String({ pattern: '^/', minLength: 1, maxLength: 4096 });

export const AttachmentSchema = Type.Object(
  {
    host: IdSchema,
    epoch: EpochSchema,
    since: TimestampSchema,
    /** Where the host mounts the filesystem; absent for a raw (NBD-only) attachment. */
    mountPath: Type.Optional(MountPathSchema),
  },
  { additionalProperties: false },
);
export type Attachment = Static<typeof AttachmentSchema>;

export const FilesystemSchema = Type.Union([Type.Literal('ext4'), Type.Literal('xfs')]);
export type Filesystem = Static<typeof FilesystemSchema>;

export const ZoneSpreadSchema = Type.Union([Type.Literal('required'), Type.Literal('preferred')]);
export type ZoneSpread = Static<typeof ZoneSpreadSchema>;

export const ConstraintsSchema = Type.Object(
  {
    /** Every label here must be on a node for it to hold a replica. */
    nodeSelector: LabelsSchema,
    /** `required`: every replica in a different zone; `preferred`: as many zones as possible. */
    zoneSpread: ZoneSpreadSchema,
  },
  { additionalProperties: false },
);
export type Constraints = Static<typeof ConstraintsSchema>;

export const VolumeStateSchema = Type.Union([
  Type.Literal('healthy'),
  Type.Literal('degraded'),
  Type.Literal('faulted'),
]);
export type VolumeState = Static<typeof VolumeStateSchema>;

export const SizeBytesSchema = Type.Integer({ minimum: 1, maximum: MAX_VOLUME_SIZE_BYTES });
export const ChunkSizeBytesSchema = Type.Integer({
  minimum: MIN_CHUNK_SIZE_BYTES,
  maximum: MAX_CHUNK_SIZE_BYTES,
});
export const ReplicaCountSchema = Type.Integer({ minimum: MIN_REPLICAS, maximum: MAX_REPLICAS });
export const ReplicaTimeoutMsSchema = Type.Integer({
  minimum: MIN_REPLICA_TIMEOUT_MS,
  maximum: MAX_REPLICA_TIMEOUT_MS,
});

/** Most snapshots one volume keeps (the chunk store handles more; the record travels whole). */
export const MAX_SNAPSHOTS_PER_VOLUME = 1024;

export const VolumeSnapshotStateSchema = Type.Union([
  /** Being cut by the engine of the attached host (seq assigned, not yet on the replicas). */
  Type.Literal('creating'),
  /** Held by every replica that was in sync at the cut (`nodeIds`). */
  Type.Literal('ready'),
  /** The cut failed (`stateReason`); replicas that took it anyway drop it. */
  Type.Literal('failed'),
]);
export type VolumeSnapshotState = Static<typeof VolumeSnapshotStateSchema>;

/** A crash-consistent point in time of a volume (issue 16, docs/snapshots.md). */
export const VolumeSnapshotSchema = Type.Object(
  {
    id: IdSchema,
    name: VolumeNameSchema,
    /** What the replicas call it: increasing per volume, never reused (D28). */
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    state: VolumeSnapshotStateSchema,
    stateReason: ReasonSchema,
    /** The volume's size at the cut: what the snapshot reads. */
    sizeBytes: SizeBytesSchema,
    /**
     * The attachment (host, epoch) whose engine makes the cut; null: the volume was detached and
     * the nodes holding its in-sync replicas take it themselves at `epoch` (D30).
     */
    host: Type.Union([IdSchema, Type.Null()]),
    epoch: EpochSchema,
    /** A detached cut: the nodes that have not taken it yet (it is ready once none is left). */
    waitingFor: Type.Optional(Type.Array(IdSchema, { maxItems: MAX_REPLICA_SET_SIZE })),
    createdAt: TimestampSchema,
    readyAt: Type.Union([TimestampSchema, Type.Null()]),
    /** Replicas holding it (the in-sync set at the cut, less any that failed it). */
    nodeIds: Type.Array(IdSchema, { maxItems: MAX_REPLICA_SET_SIZE }),
    /** How long writes were held for the cut. */
    pauseMs: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type VolumeSnapshot = Static<typeof VolumeSnapshotSchema>;

/**
 * A revert under way (D31): the volume's epoch was bumped to `epoch` and each node in
 * `waitingFor` makes its replica read snapshot `seq` again, then reports; done (the record
 * goes) once every node still holding an in-sync replica has.
 */
export const VolumeRevertSchema = Type.Object(
  {
    snapshotId: IdSchema,
    snapshot: VolumeNameSchema,
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    epoch: EpochSchema,
    waitingFor: Type.Array(IdSchema, { maxItems: MAX_REPLICA_SET_SIZE }),
    nodeIds: Type.Array(IdSchema, { maxItems: MAX_REPLICA_SET_SIZE }),
    startedAt: TimestampSchema,
  },
  { additionalProperties: false },
);
export type VolumeRevert = Static<typeof VolumeRevertSchema>;

/** Where a clone came from (kept after the copy, as its lineage). */
export const VolumeSourceSchema = Type.Object(
  {
    volumeId: IdSchema,
    volume: VolumeNameSchema,
    snapshotId: IdSchema,
    snapshot: VolumeNameSchema,
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  },
  { additionalProperties: false },
);
export type VolumeSource = Static<typeof VolumeSourceSchema>;

/**
 * A clone's first copy under way (D32): the node `nodeId` copies the source snapshot into its
 * replica, then promotes it; the clone's other replicas are rebuilt from that one afterwards.
 */
export const VolumeSeedSchema = Type.Object(
  { nodeId: IdSchema, startedAt: TimestampSchema },
  { additionalProperties: false },
);
export type VolumeSeed = Static<typeof VolumeSeedSchema>;

export const VolumeRecordSchema = Type.Object(
  {
    id: IdSchema,
    name: VolumeNameSchema,
    sizeBytes: SizeBytesSchema,
    chunkSizeBytes: ChunkSizeBytesSchema,
    desiredReplicas: ReplicaCountSchema,
    constraints: ConstraintsSchema,
    fs: FilesystemSchema,
    /** Derived from the replica set and node states on every change, kept so watchers see it. */
    state: VolumeStateSchema,
    stateReason: ReasonSchema,
    replicas: Type.Array(ReplicaSchema, { maxItems: MAX_REPLICA_SET_SIZE }),
    staleReplicas: Type.Array(StaleReplicaSchema, { maxItems: MAX_STALE_REPLICAS }),
    epoch: EpochSchema,
    attachment: Type.Union([AttachmentSchema, Type.Null()]),
    createdAt: TimestampSchema,
    /**
     * How long the attached engine waits for a replica before it drops it from the set (and so
     * the longest write stall a cut-off replica causes). Absent: the agent's default
     * (`ballastd agent --replica-timeout`, 15 s).
     */
    replicaTimeoutMs: Type.Optional(ReplicaTimeoutMsSchema),
    /** Snapshots, oldest first (absent in maps from before snapshots). */
    snapshots: Type.Optional(
      Type.Array(VolumeSnapshotSchema, { maxItems: MAX_SNAPSHOTS_PER_VOLUME }),
    ),
    /** The last snapshot seq assigned (seqs are never reused, also after deletes). */
    snapshotSeq: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    /** A revert to a snapshot under way (absent or null: none). */
    revert: Type.Optional(Type.Union([VolumeRevertSchema, Type.Null()])),
    /** A clone: the snapshot it was made from. */
    source: Type.Optional(VolumeSourceSchema),
    /** A clone whose first copy is under way (absent or null: none). */
    seed: Type.Optional(Type.Union([VolumeSeedSchema, Type.Null()])),
  },
  { additionalProperties: false },
);
export type VolumeRecord = Static<typeof VolumeRecordSchema>;

export const TaskKindSchema = Type.Union([
  Type.Literal('rebuild'),
  Type.Literal('move'),
  Type.Literal('delete'),
  Type.Literal('drain'),
]);
export type TaskKind = Static<typeof TaskKindSchema>;

export const TaskStateSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
]);
export type TaskState = Static<typeof TaskStateSchema>;
export const TaskOutcomeSchema = Type.Union([
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
]);
export type TaskOutcome = Static<typeof TaskOutcomeSchema>;

export const TaskRecordSchema = Type.Object(
  {
    id: IdSchema,
    kind: TaskKindSchema,
    volumeId: Type.Union([IdSchema, Type.Null()]),
    /** The node the task works on (the rebuild target, the node being drained). */
    nodeId: Type.Union([IdSchema, Type.Null()]),
    /** Where data comes from (a rebuild's in-sync peer, a move's origin). */
    sourceNodeId: Type.Union([IdSchema, Type.Null()]),
    state: TaskStateSchema,
    doneBytes: BytesSchema,
    totalBytes: BytesSchema,
    message: ReasonSchema,
    createdAt: TimestampSchema,
    /** When it first became running (absent while pending, and in maps from before it existed). */
    startedAt: Type.Optional(TimestampSchema),
    updatedAt: TimestampSchema,
    finishedAt: Type.Union([TimestampSchema, Type.Null()]),
  },
  { additionalProperties: false },
);
export type TaskRecord = Static<typeof TaskRecordSchema>;

export const OverProvisionPercentSchema = Type.Integer({
  minimum: MIN_OVER_PROVISION_PERCENT,
  maximum: MAX_OVER_PROVISION_PERCENT,
});

export const ReplicaReplacementGraceMsSchema = Type.Integer({
  minimum: 0,
  maximum: MAX_REPLICA_REPLACEMENT_GRACE_MS,
});
export const RebuildBandwidthSchema = Type.Integer({
  minimum: 0,
  maximum: MAX_REBUILD_BANDWIDTH_BYTES_PER_SECOND,
});
export const MaxConcurrentMovesSchema = Type.Integer({ minimum: 1, maximum: MAX_CONCURRENT_MOVES });
export const RebalanceMarginPercentSchema = Type.Integer({
  minimum: MIN_REBALANCE_MARGIN_PERCENT,
  maximum: MAX_REBALANCE_MARGIN_PERCENT,
});

export const SettingsSchema = Type.Object(
  {
    /**
     * Replicas are thin, so a node may promise more than its disk: a node has room for a replica
     * while the sum of the sizes of its replicas stays within capacity * percent / 100.
     */
    overProvisionPercent: OverProvisionPercentSchema,
    /** Kill switch of the rebalance loop (drain and repair run regardless). */
    rebalanceEnabled: Type.Boolean(),
    /**
     * How long a replica on a down (or otherwise unreturnable) node may stay lost before the
     * leader places a replacement elsewhere; a node back within it catches up by delta rebuild.
     */
    replicaReplacementGraceMs: ReplicaReplacementGraceMsSchema,
    /** Copy rate of one rebuild, node to node (0 = unthrottled); nodes and engines read it. */
    rebuildBandwidthBytesPerSecond: RebuildBandwidthSchema,
    /** Replica moves (drain and rebalance) in flight at once, cluster-wide. */
    maxConcurrentMoves: MaxConcurrentMovesSchema,
    /**
     * Rebalance moves replicas until every schedulable node's used share (the bytes its replicas
     * really occupy, as nodes report them, / schedulable bytes) is within this many percentage
     * points of the mean. Used, not provisioned: volumes are thin, so ten empty 100 GiB volumes
     * weigh nothing on a disk while one full 50 GiB volume weighs 50 GiB. Room for new replicas
     * is still checked against provisioned bytes (overProvisionPercent).
     */
    rebalanceMarginPercent: RebalanceMarginPercentSchema,
  },
  { additionalProperties: false },
);
export type Settings = Static<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  overProvisionPercent: DEFAULT_OVER_PROVISION_PERCENT,
  rebalanceEnabled: true,
  replicaReplacementGraceMs: DEFAULT_REPLICA_REPLACEMENT_GRACE_MS,
  rebuildBandwidthBytesPerSecond: DEFAULT_REBUILD_BANDWIDTH_BYTES_PER_SECOND,
  maxConcurrentMoves: DEFAULT_MAX_CONCURRENT_MOVES,
  rebalanceMarginPercent: DEFAULT_REBALANCE_MARGIN_PERCENT,
});

/**
 * Format 2 added the control-loop settings. A format 1 snapshot (settings with only
 * overProvisionPercent) still restores: the missing settings take their defaults.
 */
export const SNAPSHOT_FORMAT = 2;

export const SnapshotSchema = Type.Object(
  {
    format: Type.Literal(SNAPSHOT_FORMAT),
    appliedIndex: Type.Integer({ minimum: 0 }),
    revision: Type.Integer({ minimum: 0 }),
    settings: SettingsSchema,
    nodes: Type.Array(NodeRecordSchema),
    volumes: Type.Array(VolumeRecordSchema),
    tasks: Type.Array(TaskRecordSchema),
  },
  { additionalProperties: false },
);
export type ClusterMapSnapshot = Static<typeof SnapshotSchema>;

export const ChangeSchema = Type.Union([
  Type.Object(
    { kind: Type.Literal('node'), id: IdSchema, value: NodeRecordSchema },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('volume'),
      id: IdSchema,
      value: Type.Union([VolumeRecordSchema, Type.Null()]),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('task'),
      id: IdSchema,
      value: Type.Union([TaskRecordSchema, Type.Null()]),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('settings'), id: Type.Literal('settings'), value: SettingsSchema },
    { additionalProperties: false },
  ),
]);
/** One object that a command put (value) or deleted (value null). */
export type MapChange = Static<typeof ChangeSchema>;

export const MapEventSchema = Type.Object(
  {
    revision: Type.Integer({ minimum: 1 }),
    logIndex: Type.Integer({ minimum: 1 }),
    at: TimestampSchema,
    command: Type.String(),
    changes: Type.Array(ChangeSchema),
  },
  { additionalProperties: false },
);
/** What one applied, map-changing command did; watchers receive these in revision order. */
export type MapEvent = Static<typeof MapEventSchema>;
