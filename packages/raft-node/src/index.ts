export {
  RaftMember,
  type RaftMemberOptions,
  type StateMachine,
  type CommittedEntry,
  type MemberStatus,
  type MemberInfo,
  type MemberRole,
  type AppliedEvent,
  type LeaderEvent,
} from './member.js';
export { DiskStorage, type DiskStorageOptions, type PersistRequest } from './disk-storage.js';
export {
  RaftTransport,
  RAFT_PATH,
  raftAuthToken,
  HEADER_AUTH,
  HEADER_CLUSTER,
  HEADER_FROM,
  HEADER_TO,
  type TransportHandler,
  type TransportOptions,
  type TransportTls,
} from './transport.js';
export { RaftMetrics } from './metrics.js';
export { type PeerAddress, wrapSnapshot, unwrapSnapshot } from './envelope.js';
export {
  memberError,
  isMemberError,
  notLeaderError,
  type LeaderHint,
  type MemberErrorReason,
} from './errors.js';
