export * from './client.js';
export { readClusterFile, type ClusterFile } from './commands/dev.js';
