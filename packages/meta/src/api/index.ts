export * from './app.js';
export * from './auth.js';
export * from './context.js';
export * from './liveness.js';
export * from './pagination.js';
export * from './problem.js';
export * from './schemas.js';
export * from './security.js';
export { WATCH_CLOSE } from './routes/watch.js';
