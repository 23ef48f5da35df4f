export * from './types.js';
export * from './errors.js';
export * from './rng.js';
export * from './quorum.js';
export { type Storage, MemoryStorage } from './storage.js';
export { RaftLog, UnstableLog } from './log.js';
export { Inflights, Progress, type ProgressState, ProgressTracker } from './progress.js';
export { Raft, type RaftConfig, type ProposeResult } from './raft.js';
export { RawNode, type Ready, type Status, type PeerStatus } from './raw-node.js';
export {
  bootstrapEntries,
  decodeConfChange,
  encodeConfChange,
  isConfChangeEntry,
  validateConfChange,
} from './conf-change.js';
export { parseMessage, type InboundMessage, type Body } from './validate.js';
