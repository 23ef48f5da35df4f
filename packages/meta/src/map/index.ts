export * from './limits.js';
export * from './schemas.js';
export * from './commands.js';
export * from './eligibility.js';
export * from './health.js';
export * from './cluster-map.js';
export * from './invariants.js';
