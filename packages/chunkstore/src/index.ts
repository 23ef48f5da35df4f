export { ChunkStore } from './store.js';
export type {
  ChunkStoreOptions,
  CreateReplicaOptions,
  ReplicaSummary,
  StoreCapacity,
  StoreStats,
} from './store.js';
export { Replica } from './replica.js';
export type {
  BadBlock,
  ChunkData,
  ChunkMapPage,
  ReplicaCounters,
  ReplicaState,
  ReplicaStats,
  ScrubChunkResult,
  ScrubOptions,
  SnapshotInfo,
} from './replica.js';
export type { SnapshotRecord } from './records.js';
export { ChunkStoreReplicaStore, type ReplicaBinding } from './replica-store.js';
export { ReplicaBlockDevice } from './block-device.js';
export { PosixStorage, type DataFile, type IndexDb, type StoreStorage } from './storage.js';
export { MemoryStorage, type StorageFault, type StorageOp } from './memory-storage.js';
export { nativeAddonStatus } from './native.js';
export type { FileExtent } from './native.js';
export {
  BLOCK_SIZE_BYTES,
  DEFAULT_CHUNK_SIZE_BYTES,
  MAX_CHUNK_SIZE_BYTES,
  MAX_IO_BYTES,
  MAX_REPLICA_SIZE_BYTES,
  MIN_CHUNK_SIZE_BYTES,
} from './constants.js';
