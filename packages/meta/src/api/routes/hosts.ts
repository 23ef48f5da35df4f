import type { FastifyPluginAsync } from 'fastify';
import { BallastError } from '@ballast/common';
import { engineReportsOf } from '../liveness.js';
import { requireLeader, type ApiContext } from '../context.js';
import {
  HostHeartbeatBody,
  HostIdParams,
  HostList,
  HostView,
  NoQuery,
  type HostEngineView,
  errorResponses,
} from '../schemas.js';

/** Silence after which a host's agent is presumed dead: ten missed 3 s heartbeats. */
export const DEFAULT_HOST_TIMEOUT_MS = 30_000;

/**
 * Liveness of Docker hosts (their agents). Like node liveness it lives in the leader's memory
 * only: heartbeats never go through the log, and a new leader counts silence from the moment it
 * became leader, so a leader change never makes every host look dead. It answers one question
 * for takeovers: may a volume attached to host H be taken over because H is gone? Fencing by
 * epoch keeps a takeover safe even when the answer is wrong (a partitioned but live host loses
 * its writes, not the volume's data); the liveness only keeps a live holder from being fenced by
 * an automatic takeover.
 */
export function hostView(ctx: ApiContext, id: string, nowMs: number): HostView {
  const leaderSince = ctx.store.leaderSinceMs() ?? nowMs;
  const last = ctx.hostLiveness.lastSeenMs(id);
  const silentMs = Math.max(0, nowMs - Math.max(last ?? leaderSince, leaderSince));
  const view: HostView = {
    id,
    lastHeartbeatAt: last ?? null,
    silentMs,
    alive: silentMs <= ctx.hostTimeoutMs,
    attachedVolumes: attachmentsByHost(ctx).get(id) ?? [],
  };
  const engines: HostEngineView[] = [];
  for (const { volumeId, ...report } of ctx.hostLiveness.engineReports(id)) {
    // A volume deleted since the report has nothing left to explain.
    const volume = ctx.store.map.getVolume(volumeId);
    if (volume !== undefined) engines.push({ volume: volume.name, ...report });
  }
  if (engines.length > 0) view.engines = engines.sort((a, b) => (a.volume < b.volume ? -1 : 1));
  return view;
}

/**
 * Volume names by the host holding them, rebuilt only when the map changed: every agent
 * heartbeats every few seconds, and a scan of every volume per heartbeat would cost
 * hosts x volumes per interval on the leader.
 */
const attachmentIndex = new WeakMap<
  ApiContext,
  { revision: number; byHost: Map<string, string[]> }
>();

function attachmentsByHost(ctx: ApiContext): Map<string, string[]> {
  const revision = ctx.store.map.revision;
  const cached = attachmentIndex.get(ctx);
  if (cached !== undefined && cached.revision === revision) return cached.byHost;
  const byHost = new Map<string, string[]>();
  for (const v of ctx.store.map.listVolumes()) {
    if (!v.attachment) continue;
    const names = byHost.get(v.attachment.host);
    if (names === undefined) byHost.set(v.attachment.host, [v.name]);
    else names.push(v.name);
  }
  attachmentIndex.set(ctx, { revision, byHost });
  return byHost;
}

export const hostRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  app.post<{ Params: { id: string }; Body: HostHeartbeatBody }>(
    '/v1/hosts/:id/heartbeat',
    {
      config: { optionalBody: true },
      schema: {
        querystring: NoQuery,
        tags: ['hosts'],
        summary: "Heartbeat from a Docker host's agent (to the leader)",
        params: HostIdParams,
        body: HostHeartbeatBody,
        response: { 200: HostView, ...errorResponses },
      },
    },
    async (request) => {
      requireLeader(ctx, 'send heartbeats');
      const now = ctx.clock();
      // Checked whole before anything is recorded: a refused heartbeat changes nothing.
      const engines = engineReportsOf(request.body?.engines ?? [], now);
      if (!engines.ok) throw new BallastError('INVALID_ARGUMENT', engines.message);
      // A reordered heartbeat (or a full table) is not recorded; the answer says what is known.
      if (ctx.hostLiveness.record(request.params.id, now, request.body?.sequence)) {
        ctx.hostLiveness.recordEngines(request.params.id, engines.reports);
      }
      return hostView(ctx, request.params.id, now);
    },
  );

  app.get(
    '/v1/hosts',
    {
      schema: {
        querystring: NoQuery,
        tags: ['hosts'],
        summary:
          'Docker hosts heard from since this leader took over, and hosts holding attachments',
        response: { 200: HostList, ...errorResponses },
      },
    },
    async () => {
      requireLeader(ctx, 'ask');
      await ctx.store.linearizableRead();
      const now = ctx.clock();
      const ids = new Set<string>([...ctx.hostLiveness.ids(), ...attachmentsByHost(ctx).keys()]);
      return { items: [...ids].sort().map((id) => hostView(ctx, id, now)) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/hosts/:id',
    {
      schema: {
        querystring: NoQuery,
        tags: ['hosts'],
        summary: 'One Docker host: last heartbeat, silence, presumed alive or dead, attachments',
        params: HostIdParams,
        response: { 200: HostView, ...errorResponses },
      },
    },
    async (request) => {
      requireLeader(ctx, 'ask');
      await ctx.store.linearizableRead();
      return hostView(ctx, request.params.id, ctx.clock());
    },
  );
};
