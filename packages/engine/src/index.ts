export { VolumeEngine } from './engine.js';
export { RangeHold } from './ops.js';
export type { VolumeEngineOptions, VolumeSpec, EngineState } from './engine.js';
export type { ControlPlane, OutOfSyncRequest, PromoteRequest } from './control-plane.js';
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
