export * from './types.js';
export * from './errors.js';
export { GENERATION_STAMP, chunksToCopy, needsCopy, stampedGeneration } from './resync.js';
export type { ReplicaStore, OpenSessionArgs, OpenedSession, ChunkMapResult } from './store.js';
export {
  SMALLER_REPLICA_WAIT_MS,
  normaliseChunkMap,
  type ReplicaSession,
  type SessionFactory,
} from './session.js';
export { SessionCore } from './core.js';
export { LocalSession, localSessionFactory } from './local.js';
export { MemoryReplicaStore, MemoryVolume, type MemoryStoreOptions } from './memory-store.js';
export {
  sessionContract,
  type ContractHarness,
  type ContractRunner,
  type ContractTest,
} from './contract.js';
