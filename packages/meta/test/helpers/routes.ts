/** Every route of the API with a plausible body, for auth and fuzz tests. */
export interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with :params. */
  path: string;
  body?: unknown;
}

export const ROUTES: RouteCase[] = [
  { method: 'GET', path: '/v1/cluster' },
  { method: 'GET', path: '/v1/version' },
  { method: 'GET', path: '/v1/nodes' },
  { method: 'POST', path: '/v1/nodes', body: { address: '10.9.9.9:7100', capacityBytes: 1024 } },
  { method: 'GET', path: '/v1/nodes/:id' },
  { method: 'POST', path: '/v1/nodes/:id/heartbeat', body: { sequence: 1 } },
  { method: 'POST', path: '/v1/nodes/:id/cordon', body: {} },
  { method: 'POST', path: '/v1/nodes/:id/uncordon', body: {} },
  { method: 'POST', path: '/v1/nodes/:id/drain', body: {} },
  { method: 'DELETE', path: '/v1/nodes/:id' },
  { method: 'PUT', path: '/v1/nodes/:id/labels', body: { labels: { zone: 'q' } } },
  { method: 'GET', path: '/v1/volumes' },
  { method: 'POST', path: '/v1/volumes', body: { name: 'fresh', size: '1GiB', replicas: 1 } },
  { method: 'GET', path: '/v1/volumes/:name' },
  { method: 'PATCH', path: '/v1/volumes/:name', body: { size: '2GiB' } },
  { method: 'DELETE', path: '/v1/volumes/:name' },
  { method: 'POST', path: '/v1/volumes/:name/attach', body: { host: 'docker9', force: true } },
  { method: 'POST', path: '/v1/volumes/:name/detach', body: { host: 'docker1', force: true } },
  { method: 'POST', path: '/v1/volumes/:name/replicas/:nodeId/out-of-sync', body: { epoch: 1 } },
  { method: 'GET', path: '/v1/volumes/:name/snapshots' },
  { method: 'POST', path: '/v1/volumes/:name/snapshots?waitMs=0', body: { name: 'snap1' } },
  { method: 'GET', path: '/v1/volumes/:name/snapshots/:snapshot' },
  { method: 'DELETE', path: '/v1/volumes/:name/snapshots/:snapshot' },
  {
    method: 'POST',
    path: '/v1/volumes/:name/snapshots/:snapshot/result',
    body: { epoch: 1, ok: true, nodeIds: ['n1'], pauseMs: 1, reason: '' },
  },
  {
    method: 'POST',
    path: '/v1/volumes/:name/snapshots/:snapshot/taken',
    body: { nodeId: 'n1', epoch: 1, ok: true, reason: '' },
  },
  { method: 'POST', path: '/v1/volumes/:name/revert?waitMs=0', body: { snapshot: 'snap1' } },
  { method: 'POST', path: '/v1/volumes/:name/revert/report', body: { nodeId: 'n1', epoch: 1 } },
  { method: 'GET', path: '/v1/tasks' },
  { method: 'GET', path: '/v1/tasks/:id' },
  {
    method: 'POST',
    path: '/v1/hosts/:id/heartbeat',
    body: {
      sequence: 1,
      engines: [
        {
          volumeId: 'volume-1',
          state: 'failed',
          epoch: 1,
          reason: 'the last in-sync replica failed',
          failedAgoMs: 2_000,
          attempts: 1,
          nextAttemptInMs: 2_000,
        },
      ],
    },
  },
  { method: 'GET', path: '/v1/hosts' },
  { method: 'GET', path: '/v1/hosts/:id' },
];

export function fill(path: string, params: Record<string, string>): string {
  return path.replace(/:([A-Za-z]+)/g, (_, name: string) =>
    encodeURIComponent(params[name] ?? 'x'),
  );
}
