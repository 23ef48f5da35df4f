export * from './planner.js';
export * from './executor.js';
