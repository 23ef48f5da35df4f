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
