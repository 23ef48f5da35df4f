import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { Settings } from '../../map/index.js';
import { commit, type ApiContext } from '../context.js';
import {
  ClusterView,
  HealthView,
  NoQuery,
  SettingsPatchBody,
  SettingsView,
  VersionView,
  errorResponses,
} from '../schemas.js';

/** This package's version (dist/src/api/routes -> the package root), read once. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
const VERSION: VersionView = { version: packageVersion(), node: process.version };

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

  app.get(
    '/v1/version',
    {
      schema: {
        querystring: NoQuery,
        tags: ['cluster'],
        summary: 'What this member runs: its Ballast version and Node.js version',
        response: { 200: VersionView, ...errorResponses },
      },
    },
    async () => VERSION,
  );

  app.get(
    '/v1/settings',
    {
      schema: {
        querystring: NoQuery,
        tags: ['cluster'],
        summary: 'Cluster settings: over-provisioning and the control loops',
        response: { 200: SettingsView, ...errorResponses },
      },
    },
    async () => {
      await store.linearizableRead();
      return store.map.settings;
    },
  );

  app.patch<{ Body: SettingsPatchBody }>(
    '/v1/settings',
    {
      schema: {
        querystring: NoQuery,
        tags: ['cluster'],
        summary:
          'Change the named settings (the others keep their values); rebalanceEnabled=false is the kill switch of rebalancing',
        body: SettingsPatchBody,
        response: { 200: SettingsView, ...errorResponses },
      },
    },
    async (request) => (await commit(ctx, { type: 'updateSettings', ...request.body })) as Settings,
  );
};
