export * from './meta-store.js';
export * from './watch-hub.js';
export * from './direct-store.js';
export * from './raft-store.js';
export * from './engine-control-plane.js';
