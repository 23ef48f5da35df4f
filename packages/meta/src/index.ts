export * from './map/index.js';
export * from './placement/index.js';
export * from './store/index.js';
export * from './api/index.js';
export * from './server/index.js';
export * from './control/index.js';
