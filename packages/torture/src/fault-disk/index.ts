export {
  FaultyDevice,
  FAULT_BLOCK_BYTES,
  MAX_FAIL_RANGES,
  type FailRange,
  type FaultOps,
  type FaultyDeviceOptions,
  type FaultyDeviceStats,
  type PowerCutOptions,
  type PowerCutResult,
} from './faulty-device.js';
export { ControlClient, type FaultDiskServerStats, type FailRequest } from './control.js';
export {
  FaultDisk,
  type FaultDiskOptions,
  type FaultDiskPowerCutResult,
  type FaultDiskStats,
  type FillResult,
  type FsckReport,
  type FsckRun,
} from './disk.js';
