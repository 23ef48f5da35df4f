export { NbdServer } from './server.js';
export type {
  NbdServerOptions,
  ExportOptions,
  ListenOptions,
  UnixListenOptions,
  TcpListenOptions,
} from './server.js';
export type { NbdLogger, ConnectionLimits } from './connection.js';
export type { NbdServerStats, ExportStats, CommandStats } from './stats.js';
export { FileBlockDevice, type FileBlockDeviceOptions } from './file-device.js';
export { MemoryBlockDevice, type MemoryBlockDeviceOptions } from './memory-device.js';
export type { BlockDeviceFastPaths, NbdBlockDevice } from './device-extensions.js';
export { serveDevice, type ServeOptions, type RunningServe } from './serve.js';
export { nbdErrorFor } from './error-map.js';
export * as protocol from './protocol.js';
