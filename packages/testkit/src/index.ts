export * from './ports.js';
export * from './managed-process.js';
export * from './ballastd.js';
export * from './fleet.js';
export * from './linearizability.js';
export * from './volume-workload.js';
export * from './netns.js';
export * from './radosgw.js';
