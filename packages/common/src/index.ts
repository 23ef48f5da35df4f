export * from './errors.js';
export * from './fence.js';
export * from './steady-clock.js';
export * from './units.js';
export * from './config.js';
export * from './logger.js';
export type { BlockDevice } from './block-device.js';
export * from './ops-server.js';
export * from './tls.js';
