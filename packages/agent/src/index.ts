export {
  checkVolumeName,
  specsEqual,
  VOLUME_NAME_PATTERN,
  type AttachOptions,
  type DetachOptions,
  type DetachResult,
  type FilesystemType,
  type VolumeAttachment,
  type VolumeBackend,
  type VolumeInfo,
  type VolumeSpec,
} from './backend.js';
export { LocalFileBackend, type LocalFileBackendOptions } from './local-file-backend.js';
export {
  DEFAULT_VOLUME,
  VALID_OPTIONS,
  describeSpec,
  parseVolumeOptions,
  type VolumeDefaults,
} from './options.js';
export {
  MountManager,
  type MountManagerOptions,
  type MountStatus,
  type RecoveryReport,
  type VolumeMountRecord,
} from './mount-manager.js';
export {
  NbdClientAttacher,
  NbdfuseLoopAttacher,
  chooseAttacher,
  nbdModuleLoaded,
  type BlockAttacher,
  type KernelDevice,
} from './attach.js';
export { PluginServer, type PluginServerOptions } from './plugin-server.js';
export { RelayManager, type RelayManagerOptions } from './relay/relay-process.js';
export { ReconnectingNbdDevice, type UpstreamTarget } from './relay/reconnecting-device.js';
export { NbdClient, ConnectionLostError } from './relay/nbd-client.js';
export { startAgent, type AgentOptions, type RunningAgent } from './agent.js';
export { SILENT_LOGGER, type AgentLogger } from './logger.js';
export { ClusterBackend, type ClusterBackendOptions } from './cluster-backend.js';
export { EngineMetrics } from './engine-metrics.js';
export { HostHeartbeat, type HostLiveness } from './host-heartbeat.js';
export {
  engineReports,
  MAX_ENGINE_REPORTS,
  RECOVERED_REPORT_MS,
  type EngineCondition,
  type EngineFailure,
  type EngineRecovery,
  type EngineReport,
} from './engine-reports.js';
export { RebuildProgressReporter } from './rebuild-progress.js';
export {
  NbdAttachments,
  nbdUnixUri,
  type NbdAttachmentView,
  type NbdAttachmentsOptions,
  type NbdDetachView,
  type NbdRecoveryReport,
} from './nbd-attachments.js';
export { AdminServer, type AdminServerOptions } from './admin-server.js';
