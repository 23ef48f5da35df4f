export {
  startStorageNode,
  type ReplicaAdmin,
  type StartStorageNodeOptions,
  type StorageNode,
  type StorageNodeConfig,
} from './node.js';
export { NodeMetrics, type CapacityInfo } from './metrics.js';
export { Scrubber, type ScrubberOptions, type ScrubberStats } from './scrub.js';
export {
  PeerService,
  DEFAULT_REBUILD_BYTES_PER_SECOND,
  REBUILD_BANDWIDTH_SETTING,
  type ClusterView,
  type PeerServiceOptions,
  type RebuildStatus,
} from './peers.js';
export {
  RebuildJob,
  chunksToFetch,
  type PeerNode,
  type RebuildEnvironment,
  type RebuildOptions,
  type RebuildOutcome,
  type RebuildReport,
  type RebuildVolume,
} from './rebuild.js';
export {
  MetaSync,
  type MetaSyncOptions,
  type MetaSyncStatus,
  type MissingReplica,
} from './meta-sync.js';
