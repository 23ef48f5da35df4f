export * from './client.js';
export * from './commands/dev-cluster.js';
