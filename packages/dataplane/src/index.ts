export {
  DataPlaneServer,
  DEFAULT_MAX_IO_BYTES,
  type DataPlaneObserver,
  type DataPlaneOp,
  type DataPlaneServerOptions,
  type DataPlaneServerStats,
} from './server.js';
export {
  ClientSession,
  DataPlaneClient,
  fanOutWrite,
  type DataPlaneClientOptions,
  type DataPlaneClientStats,
  type OpenSessionOptions,
  type SessionInfo,
  type WriteOptions,
  type ZeroOptions,
} from './client.js';
export {
  RemoteSession,
  remoteSessionFactory,
  type RemoteSessionOptions,
} from './remote-session.js';
export {
  DataPlaneError,
  MAX_STATUS_MESSAGE_CHARS,
  StatusCode,
  isDataPlaneError,
  statusFor,
  statusName,
} from './status.js';
export type { DataPlaneClientTlsOptions, DataPlaneServerTlsOptions } from './tls.js';
export {
  CLIENT_NONCE_BYTES,
  MAC_BYTES,
  MIN_SECRET_BYTES,
  NONCE_BYTES,
  PROTOCOL_VERSION,
  helloMac,
  serverProofMac,
  verifyHelloMac,
  verifyServerProofMac,
} from './auth.js';
export { FrameWriter } from './frame-writer.js';
