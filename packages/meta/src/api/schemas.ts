import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  EpochSchema,
  MountPathSchema,
  TimestampSchema,
  FilesystemSchema,
  IdSchema,
  LabelsSchema,
  NodeRecordSchema,
  NodeStateSchema,
  ReasonSchema,
  ReplicaCountSchema,
  TaskRecordSchema,
  TaskStateSchema,
  VolumeNameSchema,
  VolumeRecordSchema,
  VolumeStateSchema,
  ZoneSpreadSchema,
  AddressSchema,
  BytesSchema,
  MapEventSchema,
  MaxConcurrentMovesSchema,
  OverProvisionPercentSchema,
  RebalanceMarginPercentSchema,
  RebuildBandwidthSchema,
  ReplicaReplacementGraceMsSchema,
  SettingsSchema,
  TaskOutcomeSchema,
  ReplicaUsageSchema,
  MAX_REPLICA_USAGE_REPORTS,
} from '../map/index.js';
import { PageQuery } from './pagination.js';
import { ProblemSchema } from './problem.js';

/** Request and response schemas of the REST API; every object is closed (no extra properties). */

const closed = { additionalProperties: false } as const;

/** A size as bytes (integer) or text with a unit ("10GiB", "512M"). */
/** A duration in milliseconds (integer) or text with a unit ("5s", "1500ms", "2m"). */
export const DurationInput = Type.Union(
  [
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    Type.String({ minLength: 1, maxLength: 32 }),
  ],
  { description: 'milliseconds, or a duration with a unit: 5s, 1500ms, 2m' },
);

export const SizeInput = Type.Union(
  [
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    Type.String({ minLength: 1, maxLength: 32 }),
  ],
  { description: 'bytes, or a size with a unit: 10GiB, 512M, 1TB' },
);

export const NodeView = Type.Object(
  {
    ...NodeRecordSchema.properties,
    provisionedBytes: BytesSchema,
    schedulableBytes: BytesSchema,
    replicaCount: Type.Integer({ minimum: 0 }),
    lastHeartbeatAt: Type.Union([Type.Integer(), Type.Null()], {
      description: 'last heartbeat this member received (leader only), ms since epoch',
    }),
    /**
     * How long the leader has not heard from the node (from its last heartbeat, or from the start
     * of its leadership); null on a member that is not the leader. The state turns `down` only
     * after meta's node timeout; this says sooner that a node went quiet.
     */
    silentMs: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  },
  closed,
);
export type NodeView = Static<typeof NodeView>;

/**
 * A volume as the API shows it: the map's record and, on the leader, the holder's engine in
 * short when its agent reports it failed, being reopened or reopened lately (D22; the map may
 * still call such a volume healthy). The explanation has the whole report.
 */
export const VolumeView = Type.Object(
  {
    ...VolumeRecordSchema.properties,
    engine: Type.Optional(
      Type.Object(
        {
          host: IdSchema,
          state: Type.Union([
            Type.Literal('failed'),
            Type.Literal('recovering'),
            Type.Literal('recovered'),
          ]),
          /** When it failed; for `recovered`, when it was reopened. */
          since: TimestampSchema,
        },
        closed,
      ),
    ),
  },
  closed,
);
export type VolumeView = Static<typeof VolumeView>;
export const TaskView = Type.Object(
  {
    ...TaskRecordSchema.properties,
    /**
     * Average copy rate since the task started running (bytes done over the time from
     * `startedAt` to its last update); absent before it runs or when no time has passed.
     */
    bytesPerSecond: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

function listOf<T extends TSchema>(item: T) {
  return Type.Object(
    {
      items: Type.Array(item),
      nextCursor: Type.Union([Type.String(), Type.Null()]),
      revision: Type.Integer({
        minimum: 0,
        description: 'map revision the list reflects; watch from revision + 1',
      }),
    },
    closed,
  );
}
export const NodeList = listOf(NodeView);
export const VolumeList = listOf(VolumeView);
export const TaskList = listOf(TaskView);

/** For routes without query parameters: any given is an error, not silently ignored. */
export const NoQuery = Type.Object({}, closed);

export const NodeIdParams = Type.Object({ id: IdSchema }, closed);
export const VolumeNameParams = Type.Object({ name: VolumeNameSchema }, closed);
export const ReplicaParams = Type.Object({ name: VolumeNameSchema, nodeId: IdSchema }, closed);
export const TaskIdParams = Type.Object({ id: IdSchema }, closed);

export const NodeListQuery = Type.Object(
  { ...PageQuery, state: Type.Optional(NodeStateSchema) },
  closed,
);
export const VolumeListQuery = Type.Object(
  {
    ...PageQuery,
    state: Type.Optional(VolumeStateSchema),
    node: Type.Optional(
      Type.String({
        pattern: IdSchema.pattern,
        maxLength: 63,
        description:
          'only volumes with a replica on this node (in the set, or a stale copy it still holds)',
      }),
    ),
  },
  closed,
);
export const TaskListQuery = Type.Object(
  { ...PageQuery, state: Type.Optional(TaskStateSchema), volume: Type.Optional(IdSchema) },
  closed,
);

export const RegisterNodeBody = Type.Object(
  {
    id: Type.Optional(IdSchema),
    address: AddressSchema,
    labels: Type.Optional(LabelsSchema),
    capacityBytes: BytesSchema,
    usedBytes: Type.Optional(BytesSchema),
  },
  closed,
);
export type RegisterNodeBody = Static<typeof RegisterNodeBody>;

export const HeartbeatBody = Type.Object(
  {
    capacityBytes: Type.Optional(BytesSchema),
    usedBytes: Type.Optional(BytesSchema),
    /** Free space left on the node's file system: a full node takes no replica. */
    availableBytes: Type.Optional(BytesSchema),
    sequence: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    /**
     * Used bytes of (some of) the node's replicas; a node with more than the bound sends them
     * in turns. Only figures that changed meaningfully reach the map (reportReplicaUsage).
     */
    replicas: Type.Optional(
      Type.Array(ReplicaUsageSchema, { maxItems: MAX_REPLICA_USAGE_REPORTS }),
    ),
  },
  closed,
);
export type HeartbeatBody = Static<typeof HeartbeatBody>;

/** Most engine reports one host heartbeat carries (the agent sends failing engines first). */
export const MAX_ENGINE_REPORTS = 32;
/** Longest failure reason or attempt error in an engine report (the agent clips longer ones). */
export const MAX_ENGINE_REPORT_TEXT = 256;
/** Ages in an engine report are bounded (a year): older is nonsense, not news. */
const MAX_ENGINE_REPORT_AGE_MS = 366 * 24 * 3_600_000;
const EngineAgeMs = Type.Integer({ minimum: 0, maximum: MAX_ENGINE_REPORT_AGE_MS });
const EngineReportText = Type.String({ minLength: 1, maxLength: MAX_ENGINE_REPORT_TEXT });
export const EngineReportStateSchema = Type.Union([
  Type.Literal('failed'),
  Type.Literal('recovering'),
  Type.Literal('recovered'),
]);
export type EngineReportState = Static<typeof EngineReportStateSchema>;

/**
 * What a host's agent says of one attached volume's engine that is not plainly serving (D22).
 * Times are ages on the agent's clock (ms before the heartbeat was sent), so the leader turns
 * them into its own clock on receipt and the two clocks need not agree.
 * - failed: the engine failed; I/O gets EIO; the next reopen attempt is due in `nextAttemptInMs`
 * - recovering: a reopen attempt (attach at a new epoch, open an engine) is running now
 * - recovered: the engine was reopened `recoveredAgoMs` ago at `recoveredEpoch` (reported for a
 *   while after)
 */
export const EngineReportSchema = Type.Object(
  {
    volumeId: IdSchema,
    state: EngineReportStateSchema,
    /** The failed engine's epoch. */
    epoch: EpochSchema,
    /** Why the engine failed. */
    reason: EngineReportText,
    failedAgoMs: EngineAgeMs,
    /** Reopen attempts made so far (for `recovered`: the attempts it took). */
    attempts: Type.Integer({ minimum: 0, maximum: 1_000_000_000 }),
    /** failed only: when the next attempt is due. */
    nextAttemptInMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    /** Why the last attempt did not reopen the engine. */
    lastError: Type.Optional(EngineReportText),
    /** recovered only: how long ago, and at which epoch, the engine was reopened. */
    recoveredAgoMs: Type.Optional(EngineAgeMs),
    recoveredEpoch: Type.Optional(EpochSchema),
  },
  closed,
);
export type EngineReportBody = Static<typeof EngineReportSchema>;

export const HostHeartbeatBody = Type.Object(
  {
    sequence: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    /**
     * The engines of this host's attached volumes that are not plainly serving; absent or empty:
     * every engine serves. Each heartbeat carries the whole list (it replaces the previous one).
     */
    engines: Type.Optional(Type.Array(EngineReportSchema, { maxItems: MAX_ENGINE_REPORTS })),
  },
  closed,
);
export type HostHeartbeatBody = Static<typeof HostHeartbeatBody>;

/** What an agent last reported of one engine (D22), in the leader's clock. */
const engineReportFields = {
  state: EngineReportStateSchema,
  epoch: EpochSchema,
  reason: Type.String({ maxLength: MAX_ENGINE_REPORT_TEXT }),
  failedAt: TimestampSchema,
  attempts: Type.Integer({ minimum: 0 }),
  /** failed: when the next reopen attempt is due; null otherwise. */
  nextAttemptAt: Type.Union([TimestampSchema, Type.Null()]),
  lastError: Type.Union([Type.String({ maxLength: MAX_ENGINE_REPORT_TEXT }), Type.Null()]),
  /** recovered: when the engine was reopened, and at which epoch; null otherwise. */
  recoveredAt: Type.Union([TimestampSchema, Type.Null()]),
  recoveredEpoch: Type.Union([EpochSchema, Type.Null()]),
  /** When the leader received the heartbeat that carried the report. */
  reportedAt: TimestampSchema,
};
export const EngineView = Type.Object({ host: IdSchema, ...engineReportFields }, closed);
/** One engine of a host, by the volume it serves. */
export const HostEngineView = Type.Object(
  { volume: VolumeNameSchema, ...engineReportFields },
  closed,
);
export type HostEngineView = Static<typeof HostEngineView>;

/** A Docker host's agent as the leader sees it (liveness is the leader's memory, not the map). */
export const HostView = Type.Object(
  {
    id: IdSchema,
    /** The leader's clock when it last heard from the host's agent; null: not since it leads. */
    lastHeartbeatAt: Type.Union([TimestampSchema, Type.Null()]),
    /** Silence counted from the later of the last heartbeat and the start of this leadership. */
    silentMs: Type.Integer({ minimum: 0 }),
    /** Silent longer than the host timeout: its agent is presumed dead (takeover allowed). */
    alive: Type.Boolean(),
    /** Volumes the map has attached to this host. */
    attachedVolumes: Type.Array(VolumeNameSchema),
    /** Engines its agent last reported as failed, being reopened or reopened lately (D22). */
    engines: Type.Optional(Type.Array(HostEngineView)),
  },
  closed,
);
export type HostView = Static<typeof HostView>;
export const HostList = Type.Object({ items: Type.Array(HostView) }, closed);

const ExplanationText = Type.String({ maxLength: 2048 });

/** An engine report of the holding host's agent, in the leader's clock (see EngineReportSchema). */
export type EngineView = Static<typeof EngineView>;
/**
 * Why a volume is in its state and what happens next, for `ballast volume inspect` and the
 * console: what the map records (events), what the leader's control loops last planned for it
 * (next: work under way, and work that waits, with the time a wait ends by itself), and what the
 * operator can do. Only the leader can say what it plans.
 */
export const VolumeExplanation = Type.Object(
  {
    name: VolumeNameSchema,
    state: Type.String({ maxLength: 64 }),
    stateReason: ExplanationText,
    /** What happened, oldest first: replicas that left the set, nodes that are not up. */
    events: Type.Array(
      Type.Object(
        { at: Type.Union([TimestampSchema, Type.Null()]), text: ExplanationText },
        closed,
      ),
    ),
    /** What Ballast does next: running tasks, commands of the last plan, waits with their end. */
    next: Type.Array(
      Type.Object(
        {
          loop: Type.String({ maxLength: 32 }),
          text: ExplanationText,
          until: Type.Union([TimestampSchema, Type.Null()]),
        },
        closed,
      ),
    ),
    /** What the operator can do, each naming a command; empty when nothing is needed. */
    actions: Type.Array(ExplanationText),
    /**
     * What the agent holding the volume last reported of its engine, when it is not plainly
     * serving (failed, recovering, or recovered a short while ago); absent otherwise.
     */
    engine: Type.Optional(EngineView),
    /** When the leader last planned (its clock); null before its first plan. */
    plannedAt: Type.Union([TimestampSchema, Type.Null()]),
  },
  closed,
);
export type VolumeExplanation = Static<typeof VolumeExplanation>;
export type HostList = Static<typeof HostList>;
export const HostIdParams = Type.Object({ id: IdSchema }, closed);

export const NodeActionBody = Type.Object({ reason: Type.Optional(ReasonSchema) }, closed);
export type NodeActionBody = Static<typeof NodeActionBody>;

export const LabelsBody = Type.Object({ labels: LabelsSchema }, closed);
export type LabelsBody = Static<typeof LabelsBody>;

export const CreateVolumeBody = Type.Object(
  {
    name: VolumeNameSchema,
    /** Required, except for a clone (which defaults to its snapshot's size). */
    size: Type.Optional(SizeInput),
    fromSnapshot: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}@[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$',
        maxLength: 127,
        description:
          "VOLUME@SNAPSHOT: make the new volume a clone of that ready snapshot (its size and chunk size at least the snapshot's)",
      }),
    ),
    replicas: Type.Optional(ReplicaCountSchema),
    chunkSize: Type.Optional(SizeInput),
    fs: Type.Optional(FilesystemSchema),
    nodeSelector: Type.Optional(LabelsSchema),
    zoneSpread: Type.Optional(ZoneSpreadSchema),
    preferHost: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$',
        maxLength: 63,
        description: 'host label of the node that should hold one replica (locality)',
      }),
    ),
    replicaTimeout: Type.Optional(
      Type.Union([DurationInput], {
        description:
          "how long the engine waits for a replica before dropping it (the longest write stall a cut-off replica causes); default: the agent's (15s)",
      }),
    ),
  },
  closed,
);
export type CreateVolumeBody = Static<typeof CreateVolumeBody>;

export const ResizeVolumeBody = Type.Object(
  {
    size: Type.Optional(SizeInput),
    replicaTimeout: Type.Optional(
      Type.Union([DurationInput, Type.Null()], {
        description: 'a new replica timeout; null goes back to the agent default',
      }),
    ),
  },
  { ...closed, minProperties: 1 },
);
export type ResizeVolumeBody = Static<typeof ResizeVolumeBody>;

export const AttachBody = Type.Object(
  {
    host: IdSchema,
    force: Type.Optional(Type.Boolean()),
    /** Where the host will mount the volume's filesystem (agents send it; raw attaches do not). */
    mountPath: Type.Optional(MountPathSchema),
  },
  closed,
);
export type AttachBody = Static<typeof AttachBody>;

export const DetachBody = Type.Object(
  { host: IdSchema, epoch: Type.Optional(EpochSchema), force: Type.Optional(Type.Boolean()) },
  closed,
);
export type DetachBody = Static<typeof DetachBody>;

const IncarnationField = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description:
    "the replica's incarnation as the caller knows it (the map's `incarnation`); another one in the map means that replica left the set and came back",
});

export const OutOfSyncBody = Type.Object(
  {
    epoch: EpochSchema,
    incarnation: Type.Optional(IncarnationField),
    reason: Type.Optional(ReasonSchema),
  },
  closed,
);
export type OutOfSyncBody = Static<typeof OutOfSyncBody>;

export const AddReplicaBody = Type.Object(
  {
    nodeId: IdSchema,
    replacing: Type.Optional(
      Type.String({
        pattern: IdSchema.pattern,
        maxLength: 63,
        description:
          'node whose replica (member or stale record) the new one replaces: it is removed once the new one is in sync',
      }),
    ),
  },
  closed,
);
export type AddReplicaBody = Static<typeof AddReplicaBody>;

export const PromoteReplicaBody = Type.Object(
  {
    epoch: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'the volume epoch the rebuild copied under; any other is FENCED',
    }),
    incarnation: Type.Optional(IncarnationField),
  },
  closed,
);
export type PromoteReplicaBody = Static<typeof PromoteReplicaBody>;

export const RemoveReplicaQuery = Type.Object(
  {
    force: Type.Optional(
      Type.Boolean({
        description: 'allow dropping below the desired count of in-sync replicas (never below one)',
      }),
    ),
  },
  closed,
);

export const TaskProgressBody = Type.Object(
  {
    doneBytes: BytesSchema,
    totalBytes: Type.Optional(BytesSchema),
    message: Type.Optional(ReasonSchema),
  },
  closed,
);
export type TaskProgressBody = Static<typeof TaskProgressBody>;

export const TaskFinishBody = Type.Object(
  { outcome: TaskOutcomeSchema, message: Type.Optional(ReasonSchema) },
  closed,
);
export type TaskFinishBody = Static<typeof TaskFinishBody>;

export const SettingsView = SettingsSchema;
export const SettingsPatchBody = Type.Object(
  {
    overProvisionPercent: Type.Optional(OverProvisionPercentSchema),
    rebalanceEnabled: Type.Optional(Type.Boolean()),
    replicaReplacementGraceMs: Type.Optional(ReplicaReplacementGraceMsSchema),
    rebuildBandwidthBytesPerSecond: Type.Optional(RebuildBandwidthSchema),
    maxConcurrentMoves: Type.Optional(MaxConcurrentMovesSchema),
    rebalanceMarginPercent: Type.Optional(RebalanceMarginPercentSchema),
  },
  { ...closed, minProperties: 1 },
);
export type SettingsPatchBody = Static<typeof SettingsPatchBody>;

export const ClusterView = Type.Object(
  {
    members: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          api: Type.String(),
          role: Type.Union([
            Type.Literal('leader'),
            Type.Literal('follower'),
            Type.Literal('candidate'),
            Type.Literal('learner'),
            Type.Literal('unknown'),
          ]),
        },
        closed,
      ),
    ),
    leader: Type.Union([Type.String(), Type.Null()]),
    term: Type.Integer({ minimum: 0 }),
    commitIndex: Type.Integer({ minimum: 0 }),
    revision: Type.Integer({ minimum: 0 }),
  },
  closed,
);

export const HealthView = Type.Object(
  { status: Type.Literal('ok'), leader: Type.Boolean(), revision: Type.Integer({ minimum: 0 }) },
  closed,
);

/** What software a member runs (`ballast version`). */
export const VersionView = Type.Object(
  {
    /** The version of Ballast's meta package this member runs. */
    version: Type.String({ maxLength: 64 }),
    /** The Node.js version it runs on. */
    node: Type.String({ maxLength: 64 }),
  },
  closed,
);
export type VersionView = Static<typeof VersionView>;

export const WatchQuery = Type.Object(
  {
    fromRevision: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'first revision to receive; default: only changes after now',
      }),
    ),
  },
  closed,
);

/** Messages on the watch websocket (server to client), documented for clients. */
export const WatchMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('event'), event: MapEventSchema }, closed),
  Type.Object({ type: Type.Literal('synced'), revision: Type.Integer() }, closed),
  Type.Object(
    { type: Type.Literal('reset'), revision: Type.Integer(), reason: Type.String() },
    closed,
  ),
  Type.Object({ type: Type.Literal('error'), problem: ProblemSchema }, closed),
]);

/** Error responses every route declares. */
export const errorResponses = { '4xx': ProblemSchema, '5xx': ProblemSchema } as const;
