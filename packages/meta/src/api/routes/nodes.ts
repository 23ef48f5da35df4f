import type { FastifyPluginAsync } from 'fastify';
import { BallastError } from '@ballast/common';
import type { NodeAction, NodeRecord } from '../../map/index.js';
import { commit, nodeView, requireNode, type ApiContext } from '../context.js';
import { capacityReportNeeded, replicaUsageReports } from '../liveness.js';
import { paginate } from '../pagination.js';
import {
  HeartbeatBody,
  LabelsBody,
  NodeActionBody,
  NodeIdParams,
  NodeList,
  NodeListQuery,
  NodeView,
  RegisterNodeBody,
  errorResponses,
  NoQuery,
} from '../schemas.js';

type NodeIdParams = { id: string };

export const nodeRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const { store } = ctx;

  app.get<{ Querystring: { limit?: number; cursor?: string; state?: NodeRecord['state'] } }>(
    '/v1/nodes',
    {
      schema: {
        tags: ['nodes'],
        summary: 'List storage nodes, sorted by id',
        querystring: NodeListQuery,
        response: { 200: NodeList, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const { limit, cursor, state } = request.query;
      const page = paginate(store.map.listNodes(), (n) => n.id, {
        limit,
        cursor,
        filter: state === undefined ? undefined : (n) => n.state === state,
      });
      return {
        items: page.items.map((n) => nodeView(ctx, n)),
        nextCursor: page.nextCursor,
        revision: store.map.revision,
      };
    },
  );

  app.post<{ Body: RegisterNodeBody }>(
    '/v1/nodes',
    {
      schema: {
        querystring: NoQuery,
        tags: ['nodes'],
        summary: 'Register a storage node (again, after a restart: same id, same replicas)',
        body: RegisterNodeBody,
        response: { 200: NodeView, 201: NodeView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      await store.linearizableRead();
      const id = body.id ?? ctx.newId('node');
      const known = store.map.getNode(id) !== undefined;
      const node = (await commit(ctx, {
        type: 'registerNode',
        nodeId: id,
        address: body.address,
        labels: body.labels ?? {},
        capacityBytes: body.capacityBytes,
        usedBytes: body.usedBytes ?? 0,
      })) as NodeRecord;
      // Registering is a sign of life too.
      if (store.isLeader()) ctx.liveness.record(node.id, ctx.clock());
      return reply.code(known ? 200 : 201).send(nodeView(ctx, node));
    },
  );

  app.get<{ Params: NodeIdParams }>(
    '/v1/nodes/:id',
    {
      schema: {
        querystring: NoQuery,
        tags: ['nodes'],
        summary: 'One storage node',
        params: NodeIdParams,
        response: { 200: NodeView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      return nodeView(ctx, requireNode(ctx, request.params.id));
    },
  );

  app.post<{ Params: NodeIdParams; Body: HeartbeatBody }>(
    '/v1/nodes/:id/heartbeat',
    {
      config: { optionalBody: true },
      schema: {
        querystring: NoQuery,
        tags: ['nodes'],
        summary:
          'Heartbeat from a node (to the leader); updates liveness, and capacity and replica usage when they changed enough',
        params: NodeIdParams,
        body: HeartbeatBody,
        response: { 200: NodeView, ...errorResponses },
      },
    },
    async (request) => {
      if (!store.isLeader()) {
        const leader = store.leaderHint();
        throw new BallastError(
          'UNAVAILABLE',
          leader
            ? `this member is not the leader; send heartbeats to ${leader.api}`
            : 'no leader at the moment',
          { leader },
        );
      }
      await store.linearizableRead();
      const node = requireNode(ctx, request.params.id);
      if (node.state === 'removed') {
        throw new BallastError(
          'CONFLICT',
          `node ${node.id} was removed from the cluster; it must register as a new node`,
          {
            nodeId: node.id,
          },
        );
      }
      const body = request.body;
      const seen = new Set<string>();
      for (const r of body.replicas ?? []) {
        if (seen.has(r.volumeId)) {
          throw new BallastError(
            'INVALID_ARGUMENT',
            `replicas lists volume ${r.volumeId} twice; send one figure per replica`,
            { volumeId: r.volumeId },
          );
        }
        seen.add(r.volumeId);
      }
      if (!ctx.liveness.record(node.id, ctx.clock(), body.sequence)) return nodeView(ctx, node);
      if (!node.reachable) {
        await commit(ctx, {
          type: 'setNodeState',
          nodeId: node.id,
          action: 'up',
          reason: 'heartbeats resumed',
        });
      }
      const capacityBytes = body.capacityBytes ?? node.capacityBytes;
      const usedBytes = body.usedBytes ?? node.usedBytes;
      const availableBytes =
        body.availableBytes === undefined
          ? undefined
          : Math.min(body.availableBytes, capacityBytes);
      if (capacityReportNeeded(node, capacityBytes, usedBytes, availableBytes)) {
        await commit(ctx, {
          type: 'reportNodeCapacity',
          nodeId: node.id,
          capacityBytes,
          usedBytes,
          ...(availableBytes !== undefined ? { availableBytes } : {}),
        });
      }
      // Figures the map just accepted (or would have): the node view shows them at once.
      ctx.liveness.recordUsage(node.id, {
        usedBytes,
        ...(availableBytes !== undefined ? { availableBytes } : {}),
      });
      // Per-replica usage for rebalance: only figures that are new or moved meaningfully.
      const usage = replicaUsageReports(store.map, node.id, body.replicas ?? []);
      if (usage.length > 0) {
        await commit(ctx, { type: 'reportReplicaUsage', nodeId: node.id, replicas: usage });
      }
      return nodeView(ctx, requireNode(ctx, node.id));
    },
  );

  const actions: Array<{ action: NodeAction; summary: string }> = [
    { action: 'cordon', summary: 'Stop placing new replicas on a node' },
    { action: 'uncordon', summary: 'Allow new replicas on a node again' },
    { action: 'drain', summary: 'Mark a node for emptying: its replicas are to move elsewhere' },
  ];
  for (const { action, summary } of actions) {
    app.post<{ Params: NodeIdParams; Body: NodeActionBody }>(
      `/v1/nodes/:id/${action}`,
      {
        config: { optionalBody: true },
        schema: {
          tags: ['nodes'],
          summary,
          querystring: NoQuery,
          params: NodeIdParams,
          body: NodeActionBody,
          response: { 200: NodeView, ...errorResponses },
        },
      },
      async (request) => {
        const node = (await commit(ctx, {
          type: 'setNodeState',
          nodeId: request.params.id,
          action,
          ...(request.body.reason !== undefined ? { reason: request.body.reason } : {}),
        })) as NodeRecord;
        return nodeView(ctx, node);
      },
    );
  }

  app.delete<{ Params: NodeIdParams }>(
    '/v1/nodes/:id',
    {
      schema: {
        querystring: NoQuery,
        tags: ['nodes'],
        summary: 'Remove a node that holds no replicas (its id is never reused)',
        params: NodeIdParams,
        response: { 200: NodeView, ...errorResponses },
      },
    },
    async (request) => {
      const node = (await commit(ctx, {
        type: 'setNodeState',
        nodeId: request.params.id,
        action: 'remove',
        reason: 'removed through the API',
      })) as NodeRecord;
      ctx.liveness.forget(node.id);
      return nodeView(ctx, node);
    },
  );

  app.put<{ Params: NodeIdParams; Body: LabelsBody }>(
    '/v1/nodes/:id/labels',
    {
      schema: {
        querystring: NoQuery,
        tags: ['nodes'],
        summary: "Replace a node's labels (zone, host, rack, free-form)",
        params: NodeIdParams,
        body: LabelsBody,
        response: { 200: NodeView, ...errorResponses },
      },
    },
    async (request) => {
      const node = (await commit(ctx, {
        type: 'labelNode',
        nodeId: request.params.id,
        labels: request.body.labels,
      })) as NodeRecord;
      return nodeView(ctx, node);
    },
  );
};
