import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { MAX_REPLICAS, MAX_REPLICA_SET_SIZE, MAX_REPLICA_USAGE_REPORTS } from './limits.js';
import {
  AddressSchema,
  BytesSchema,
  ChunkSizeBytesSchema,
  ConstraintsSchema,
  EpochSchema,
  MountPathSchema,
  FilesystemSchema,
  IdSchema,
  LabelsSchema,
  MaxConcurrentMovesSchema,
  OverProvisionPercentSchema,
  RebalanceMarginPercentSchema,
  RebuildBandwidthSchema,
  ReplicaReplacementGraceMsSchema,
  ReasonSchema,
  ReplicaCountSchema,
  ReplicaTimeoutMsSchema,
  SizeBytesSchema,
  TaskKindSchema,
  TaskOutcomeSchema,
  TimestampSchema,
  VolumeNameSchema,
} from './schemas.js';

/**
 * The commands of the cluster map. They are what the Raft log carries, so each one is plain JSON
 * and complete: the leader fills in the timestamp (`at`) and any new id before proposing, and
 * placement's choice of nodes travels inside createVolume. Applying a command therefore needs
 * nothing but the command and the current map.
 */

function command<T extends string, P extends Record<string, TSchema>>(type: T, props: P) {
  return Type.Object(
    { type: Type.Literal(type), at: TimestampSchema, ...props },
    { additionalProperties: false },
  );
}

export const RegisterNodeCommand = command('registerNode', {
  nodeId: IdSchema,
  address: AddressSchema,
  labels: LabelsSchema,
  capacityBytes: BytesSchema,
  usedBytes: BytesSchema,
});

export const NodeActionSchema = Type.Union([
  Type.Literal('cordon'),
  Type.Literal('uncordon'),
  Type.Literal('drain'),
  Type.Literal('down'),
  Type.Literal('up'),
  Type.Literal('remove'),
]);
export type NodeAction = Static<typeof NodeActionSchema>;

export const SetNodeStateCommand = command('setNodeState', {
  nodeId: IdSchema,
  action: NodeActionSchema,
  reason: Type.Optional(ReasonSchema),
});

export const LabelNodeCommand = command('labelNode', { nodeId: IdSchema, labels: LabelsSchema });

export const ReportNodeCapacityCommand = command('reportNodeCapacity', {
  nodeId: IdSchema,
  capacityBytes: BytesSchema,
  usedBytes: BytesSchema,
  /** The file system's free space (absent from older nodes: left as it was). */
  availableBytes: Type.Optional(BytesSchema),
});

/** One replica's used bytes as its node measured them (st_blocks of its data file). */
export const ReplicaUsageSchema = Type.Object(
  { volumeId: IdSchema, usedBytes: BytesSchema },
  { additionalProperties: false },
);
export type ReplicaUsage = Static<typeof ReplicaUsageSchema>;

/**
 * Used bytes of replicas on one node, for rebalance. The leader proposes it from a heartbeat
 * only for figures that changed meaningfully (see api/liveness.ts), so heartbeats do not fill
 * the log. Entries for replicas the map no longer lists on the node (moved or deleted since the
 * node measured) are skipped; a figure above the volume's size is refused.
 */
export const ReportReplicaUsageCommand = command('reportReplicaUsage', {
  nodeId: IdSchema,
  replicas: Type.Array(ReplicaUsageSchema, { minItems: 1, maxItems: MAX_REPLICA_USAGE_REPORTS }),
});

export const CreateVolumeCommand = command('createVolume', {
  volumeId: IdSchema,
  name: VolumeNameSchema,
  sizeBytes: SizeBytesSchema,
  chunkSizeBytes: ChunkSizeBytesSchema,
  desiredReplicas: ReplicaCountSchema,
  constraints: ConstraintsSchema,
  fs: FilesystemSchema,
  /** Chosen by placement before proposing; apply checks they are still eligible. */
  replicaNodeIds: Type.Array(IdSchema, { minItems: 1, maxItems: MAX_REPLICAS }),
  replicaTimeoutMs: Type.Optional(ReplicaTimeoutMsSchema),
  /** A clone of a ready snapshot (D32): its replicas start empty and are filled from it. */
  source: Type.Optional(
    Type.Object({ volumeId: IdSchema, snapshotId: IdSchema }, { additionalProperties: false }),
  ),
});

/** Changes a volume's options; null clears one (back to the agent's default). */
export const SetVolumeOptionsCommand = command('setVolumeOptions', {
  volumeId: IdSchema,
  replicaTimeoutMs: Type.Union([ReplicaTimeoutMsSchema, Type.Null()]),
});

export const ResizeVolumeCommand = command('resizeVolume', {
  volumeId: IdSchema,
  sizeBytes: SizeBytesSchema,
});

export const DeleteVolumeCommand = command('deleteVolume', { volumeId: IdSchema });

export const AttachVolumeCommand = command('attachVolume', {
  volumeId: IdSchema,
  host: IdSchema,
  force: Type.Boolean(),
  /** Where the host will mount the filesystem (shown by `ballast volume ls`). */
  mountPath: Type.Optional(MountPathSchema),
});

export const DetachVolumeCommand = command('detachVolume', {
  volumeId: IdSchema,
  host: IdSchema,
  /** The epoch the holder got from its attach; required unless force. */
  epoch: Type.Optional(EpochSchema),
  force: Type.Boolean(),
});

export const MarkReplicaOutOfSyncCommand = command('markReplicaOutOfSync', {
  volumeId: IdSchema,
  nodeId: IdSchema,
  /** The epoch of the engine that saw the write fail. */
  epoch: EpochSchema,
  /**
   * The incarnation of the replica that failed (D17). When the map holds another incarnation
   * on that node (the failed one left the set and the node was taken back), the failed replica
   * is out already: nothing changes.
   */
  incarnation: Type.Optional(EpochSchema),
  reason: ReasonSchema,
});

/**
 * A replica on a down node of a volume nobody has attached (no engine will notice it is gone):
 * the leader moves it out of the set so the volume's state is honest and a replacement or a
 * delta rebuild can follow. `epoch` is the volume epoch the leader saw; an attach since refuses.
 */
export const MarkReplicaLostCommand = command('markReplicaLost', {
  volumeId: IdSchema,
  nodeId: IdSchema,
  epoch: EpochSchema,
  reason: ReasonSchema,
});

export const AddReplicaCommand = command('addReplica', {
  volumeId: IdSchema,
  nodeId: IdSchema,
  /**
   * The replica (member or stale record) this one will replace, in a move or a repair: the
   * spread rule ignores it, and a `move` task records that it is to be removed once the new
   * replica is in sync.
   */
  replacing: Type.Optional(IdSchema),
  /**
   * Id of the rebuild task this command creates; by default `rebuild-<log index>` (and
   * `move-<log index>` for the move task), the same on every member.
   */
  taskId: Type.Optional(IdSchema),
});

export const PromoteReplicaCommand = command('promoteReplica', {
  volumeId: IdSchema,
  nodeId: IdSchema,
  /** The volume epoch the rebuild ran under; a newer writer invalidates the rebuild. */
  epoch: EpochSchema,
  /** The incarnation the rebuild copied to; another one in the map refuses (CONFLICT). */
  incarnation: Type.Optional(EpochSchema),
});

export const RemoveReplicaCommand = command('removeReplica', {
  volumeId: IdSchema,
  nodeId: IdSchema,
  /** Allows dropping below the desired count (never below one in-sync replica). */
  force: Type.Boolean(),
});

export const CreateTaskCommand = command('createTask', {
  taskId: IdSchema,
  kind: TaskKindSchema,
  volumeId: Type.Optional(IdSchema),
  nodeId: Type.Optional(IdSchema),
  sourceNodeId: Type.Optional(IdSchema),
  totalBytes: BytesSchema,
  message: Type.Optional(ReasonSchema),
});

export const UpdateTaskCommand = command('updateTask', {
  taskId: IdSchema,
  doneBytes: BytesSchema,
  totalBytes: Type.Optional(BytesSchema),
  message: Type.Optional(ReasonSchema),
});

export const FinishTaskCommand = command('finishTask', {
  taskId: IdSchema,
  outcome: TaskOutcomeSchema,
  message: Type.Optional(ReasonSchema),
});

/** Changes the settings it names; the others keep their values. */
export const UpdateSettingsCommand = command('updateSettings', {
  overProvisionPercent: Type.Optional(OverProvisionPercentSchema),
  rebalanceEnabled: Type.Optional(Type.Boolean()),
  replicaReplacementGraceMs: Type.Optional(ReplicaReplacementGraceMsSchema),
  rebuildBandwidthBytesPerSecond: Type.Optional(RebuildBandwidthSchema),
  maxConcurrentMoves: Type.Optional(MaxConcurrentMovesSchema),
  rebalanceMarginPercent: Type.Optional(RebalanceMarginPercentSchema),
});

/** Starts a snapshot of an attached volume: the attached host's engine makes the cut. */
export const CreateVolumeSnapshotCommand = command('createVolumeSnapshot', {
  volumeId: IdSchema,
  snapshotId: IdSchema,
  name: VolumeNameSchema,
});

/** The attached host's engine reports the cut (at the attachment's epoch). */
export const FinishVolumeSnapshotCommand = command('finishVolumeSnapshot', {
  volumeId: IdSchema,
  snapshotId: IdSchema,
  epoch: EpochSchema,
  ok: Type.Boolean(),
  nodeIds: Type.Array(IdSchema, { maxItems: MAX_REPLICA_SET_SIZE }),
  pauseMs: Type.Number({ minimum: 0 }),
  reason: ReasonSchema,
});

/** A node took a detached volume's snapshot on its replica (or could not: ok false). */
export const TakeVolumeSnapshotCommand = command('takeVolumeSnapshot', {
  volumeId: IdSchema,
  snapshotId: IdSchema,
  nodeId: IdSchema,
  epoch: EpochSchema,
  ok: Type.Boolean(),
  reason: ReasonSchema,
});

/** Reverts a detached volume to one of its snapshots (D31): a new epoch, then the nodes. */
export const RevertVolumeCommand = command('revertVolume', {
  volumeId: IdSchema,
  snapshotId: IdSchema,
});

/** A node reverted its replica of the volume (at the revert's epoch). */
export const ReportRevertCommand = command('reportRevert', {
  volumeId: IdSchema,
  nodeId: IdSchema,
  epoch: EpochSchema,
});

/** Deletes a snapshot from the map; nodes following the map drop it from their replicas. */
export const DeleteVolumeSnapshotCommand = command('deleteVolumeSnapshot', {
  volumeId: IdSchema,
  snapshotId: IdSchema,
});

export const CommandSchema = Type.Union([
  RegisterNodeCommand,
  SetNodeStateCommand,
  LabelNodeCommand,
  ReportNodeCapacityCommand,
  ReportReplicaUsageCommand,
  CreateVolumeCommand,
  ResizeVolumeCommand,
  SetVolumeOptionsCommand,
  DeleteVolumeCommand,
  AttachVolumeCommand,
  DetachVolumeCommand,
  MarkReplicaOutOfSyncCommand,
  MarkReplicaLostCommand,
  AddReplicaCommand,
  PromoteReplicaCommand,
  RemoveReplicaCommand,
  CreateTaskCommand,
  UpdateTaskCommand,
  FinishTaskCommand,
  UpdateSettingsCommand,
  CreateVolumeSnapshotCommand,
  FinishVolumeSnapshotCommand,
  TakeVolumeSnapshotCommand,
  DeleteVolumeSnapshotCommand,
  RevertVolumeCommand,
  ReportRevertCommand,
]);

export type Command = Static<typeof CommandSchema>;
export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
/** A command before the leader stamps its time on it. */
export type CommandDraft = Command extends infer C
  ? C extends Command
    ? Omit<C, 'at'>
    : never
  : never;

export const COMMAND_TYPES: readonly CommandType[] = CommandSchema.anyOf.map(
  (s) => s.properties.type.const as CommandType,
);

const checkers = new Map(
  CommandSchema.anyOf.map((s) => [s.properties.type.const as string, TypeCompiler.Compile(s)]),
);

export type DecodeResult = { ok: true; command: Command } | { ok: false; message: string };

/**
 * Checks a log entry's payload against the command schemas. A garbage entry (wrong type, missing
 * or extra fields, out-of-range numbers) is refused with a message naming the first problem, so
 * a bad entry in the log is a refused command rather than a crash of every member.
 */
export function decodeCommand(entry: unknown): DecodeResult {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return { ok: false, message: 'command must be a JSON object' };
  }
  const type = (entry as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, message: 'command has no "type"' };
  const checker = checkers.get(type);
  if (checker === undefined) {
    return { ok: false, message: `unknown command type "${type.slice(0, 64)}"` };
  }
  if (checker.Check(entry)) return { ok: true, command: entry as Command };
  const first = checker.Errors(entry).First();
  const where = first?.path ? first.path : '(root)';
  return {
    ok: false,
    message: `invalid ${type} command: ${where} ${first?.message ?? 'does not match the schema'}`,
  };
}
