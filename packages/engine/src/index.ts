export { VolumeEngine, RangeHold } from './engine.js';
export type { VolumeEngineOptions, VolumeSpec, EngineState } from './engine.js';
export type {
  ReplicaChannel,
  ChannelFactory,
  ChunkMapEntry,
  ChunkCopy,
  SessionSpec,
  WritePayload,
} from './channel.js';
export { payloadBytes } from './channel.js';
export { ChannelError, toChannelError, type ChannelErrorKind } from './errors.js';
export { LocalReplicaChannel } from './local-channel.js';
export {
  DataPlaneChannel,
  dataPlaneChannelFactory,
  type DataPlaneChannelOptions,
} from './dataplane-channel.js';
export {
  DirectControlPlane,
  RestControlPlane,
  type ControlPlane,
  type CommandProposer,
  type OutOfSyncRequest,
  type PromoteRequest,
  type RestControlPlaneOptions,
} from './control-plane.js';
export { RangeLock, type LockEntry } from './range-lock.js';
export type { RebuildOptions, RebuildProgressReport, RebuildResult } from './rebuild.js';
export {
  LATENCY_BUCKETS_SECONDS,
  type EngineStats,
  type HistogramSnapshot,
  type OpCounters,
  type OpKind,
  type ReconcileProgress,
  type RebuildProgress,
  type ReplicaCounters,
} from './metrics.js';
export { HandlerReplicaChannel, handlerChannelFactory } from './handler-channel.js';
