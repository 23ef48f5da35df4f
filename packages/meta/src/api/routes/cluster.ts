import type { FastifyPluginAsync } from 'fastify';
import type { ApiContext } from '../context.js';
import { ClusterView, HealthView, NoQuery, errorResponses } from '../schemas.js';

export const clusterRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const { store } = ctx;

  app.get(
    '/v1/cluster',
    {
      schema: {
        querystring: NoQuery,
        tags: ['cluster'],
        summary: 'Members of the metadata service, the leader, term and commit index',
        response: { 200: ClusterView, ...errorResponses },
      },
    },
    async () => ({ ...store.status(), revision: store.map.revision }),
  );

  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        tags: ['cluster'],
        summary: 'Liveness of this member (no token needed)',
        response: { 200: HealthView, ...errorResponses },
      },
    },
    async () => ({ status: 'ok' as const, leader: store.isLeader(), revision: store.map.revision }),
  );
};
