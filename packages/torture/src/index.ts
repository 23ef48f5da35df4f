export * from './fault-disk/index.js';
export * from './block-checker.js';
export * from './nemesis.js';
export * from './report.js';
export * from './torture.js';
