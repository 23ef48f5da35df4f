export {
  startStorageNode,
  type ReplicaAdmin,
  type StartStorageNodeOptions,
  type StorageNode,
  type StorageNodeConfig,
} from './node.js';
export { ChunkStoreHandler, type ReplicaBinding } from './handler.js';
export { NodeMetrics, type CapacityInfo } from './metrics.js';
export { Scrubber, type ScrubberOptions, type ScrubberStats } from './scrub.js';
export {
  MetaClient,
  type ListResult,
  type MetaClientOptions,
  type RequestOptions,
} from './meta-client.js';
export {
  MapFollower,
  parseNode,
  parseVolume,
  type MapChanges,
  type MapFollowerOptions,
  type MapMirror,
  type MapNode,
  type MapReplica,
  type MapStaleReplica,
  type MapVolume,
} from './map-follower.js';
export {
  MetaSync,
  type MetaSyncOptions,
  type MetaSyncStatus,
  type MissingReplica,
} from './meta-sync.js';
