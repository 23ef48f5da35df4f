export * from './grafana.js';
export * from './dashboards.js';
export * from './paths.js';
export * from './promql.js';
