import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetaStore } from '../store/index.js';

/**
 * Prometheus metrics of the API and of the map this member holds. Uses its own registry (not the
 * global one) so several apps can live in one process, as in tests.
 */
export function installMetrics(app: FastifyInstance, store: MetaStore, registry: Registry): void {
  const requests = new Counter({
    name: 'ballast_meta_http_requests_total',
    help: 'HTTP requests answered, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ballast_meta_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'ballast_meta_map_revision',
    help: 'Revision of the cluster map on this member',
    registers: [registry],
    collect() {
      this.set(store.map.revision);
    },
  });
  new Gauge({
    name: 'ballast_meta_is_leader',
    help: '1 when this member is the leader',
    registers: [registry],
    collect() {
      this.set(store.isLeader() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'ballast_meta_nodes',
    help: 'Storage nodes by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts: Record<string, number> = {
        up: 0,
        down: 0,
        cordoned: 0,
        draining: 0,
        removed: 0,
      };
      for (const node of store.map.listNodes()) counts[node.state] = (counts[node.state] ?? 0) + 1;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'ballast_meta_volumes',
    help: 'Volumes by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts: Record<string, number> = { healthy: 0, degraded: 0, faulted: 0 };
      for (const volume of store.map.listVolumes())
        counts[volume.state] = (counts[volume.state] ?? 0) + 1;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: label values must stay a small set.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    duration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.get(
    '/metrics',
    { config: { public: true }, schema: { hide: true } },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
}
