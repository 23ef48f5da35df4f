// Snapshots of volumes (issue 16): create, list, inspect, delete, the attached host's report of
// the cut, and the nodes' reports of a detached volume's cut. The cut itself is the engine's (docs/snapshots.md); meta assigns the seq and keeps
// the record in the volume's entry of the map.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { BallastError } from '@ballast/common';
import {
  EpochSchema,
  MAX_REPLICA_SET_SIZE,
  IdSchema,
  ReasonSchema,
  VolumeNameSchema,
  VolumeSnapshotSchema,
  type VolumeRecord,
  type VolumeSnapshot,
} from '../../map/index.js';
import { commit, requireVolume, type ApiContext } from '../context.js';
import { NoQuery, VolumeNameParams, VolumeView, errorResponses } from '../schemas.js';

const closed = { additionalProperties: false } as const;

const SnapshotParams = Type.Object({ name: VolumeNameSchema, snapshot: VolumeNameSchema }, closed);
const CreateSnapshotBody = Type.Object({ name: VolumeNameSchema }, closed);
const CreateSnapshotQuery = Type.Object(
  {
    /** How long to wait for the cut before answering 202 with the snapshot still creating. */
    waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 120_000 })),
  },
  closed,
);
const SnapshotResultBody = Type.Object(
  {
    epoch: EpochSchema,
    ok: Type.Boolean(),
    nodeIds: Type.Array(IdSchema, { maxItems: MAX_REPLICA_SET_SIZE }),
    pauseMs: Type.Number({ minimum: 0 }),
    reason: ReasonSchema,
  },
  closed,
);
const SnapshotTakenBody = Type.Object(
  {
    nodeId: IdSchema,
    epoch: EpochSchema,
    ok: Type.Boolean(),
    reason: ReasonSchema,
  },
  closed,
);
const RevertBody = Type.Object({ snapshot: VolumeNameSchema }, closed);
const RevertQuery = Type.Object(
  {
    /** How long to wait for every node to revert before answering 202 with it under way. */
    waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  },
  closed,
);
const RevertReportBody = Type.Object({ nodeId: IdSchema, epoch: EpochSchema }, closed);
const SnapshotView = Type.Object({ ...VolumeSnapshotSchema.properties, volume: VolumeNameSchema });
const SnapshotList = Type.Object({ items: Type.Array(SnapshotView) }, closed);

const DEFAULT_WAIT_MS = 30_000;
const POLL_MS = 50;

function view(volume: VolumeRecord, snapshot: VolumeSnapshot): VolumeSnapshot & { volume: string } {
  return { ...snapshot, volume: volume.name };
}

function requireSnapshot(volume: VolumeRecord, name: string): VolumeSnapshot {
  const snapshot = (volume.snapshots ?? []).find((s) => s.name === name);
  if (snapshot === undefined) {
    throw new BallastError('NOT_FOUND', `volume ${volume.name} has no snapshot ${name}`, {
      volume: volume.name,
      snapshot: name,
    });
  }
  return snapshot;
}

export const snapshotRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const { store } = ctx;

  app.get<{ Params: { name: string } }>(
    '/v1/volumes/:name/snapshots',
    {
      schema: {
        querystring: NoQuery,
        tags: ['snapshots'],
        summary: "A volume's snapshots, oldest first",
        params: VolumeNameParams,
        response: { 200: SnapshotList, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      return { items: (volume.snapshots ?? []).map((s) => view(volume, s)) };
    },
  );

  app.get<{ Params: { name: string; snapshot: string } }>(
    '/v1/volumes/:name/snapshots/:snapshot',
    {
      schema: {
        querystring: NoQuery,
        tags: ['snapshots'],
        summary: 'One snapshot: its state, the replicas holding it, its size and pause',
        params: SnapshotParams,
        response: { 200: SnapshotView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      return view(volume, requireSnapshot(volume, request.params.snapshot));
    },
  );

  app.post<{
    Params: { name: string };
    Body: { name: string };
    Querystring: { waitMs?: number };
  }>(
    '/v1/volumes/:name/snapshots',
    {
      schema: {
        querystring: CreateSnapshotQuery,
        tags: ['snapshots'],
        summary:
          "Take a crash-consistent snapshot of a volume (an attached one's engine makes the cut; a detached one's nodes take it): 201 once every in-sync replica holds it, 202 if the cut is still running after waitMs",
        params: VolumeNameParams,
        body: CreateSnapshotBody,
        response: { 201: SnapshotView, 202: SnapshotView, ...errorResponses },
      },
    },
    async (request, reply) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      await commit(ctx, {
        type: 'createVolumeSnapshot',
        volumeId: volume.id,
        snapshotId: ctx.newId('snapshot'),
        name: request.body.name,
      });
      // Polls of the local map (counted, not timed: the API's clock may be a test's).
      const polls = Math.ceil((request.query.waitMs ?? DEFAULT_WAIT_MS) / POLL_MS);
      for (let poll = 0; ; poll++) {
        const current = store.map.getVolume(volume.id);
        const snapshot = current?.snapshots?.find((s) => s.name === request.body.name);
        if (current === undefined || snapshot === undefined) {
          throw new BallastError(
            'CONFLICT',
            `snapshot ${request.body.name} of ${volume.name} was deleted while it was being taken`,
          );
        }
        if (snapshot.state === 'ready') return reply.code(201).send(view(current, snapshot));
        if (snapshot.state === 'failed') {
          throw new BallastError(
            'UNAVAILABLE',
            `snapshot ${snapshot.name} of ${volume.name} failed: ${snapshot.stateReason}; delete it (ballast snapshot rm ${volume.name}@${snapshot.name}) and try again`,
            { snapshot: snapshot.name },
          );
        }
        if (poll >= polls) return reply.code(202).send(view(current, snapshot));
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
  );

  app.delete<{ Params: { name: string; snapshot: string } }>(
    '/v1/volumes/:name/snapshots/:snapshot',
    {
      schema: {
        querystring: NoQuery,
        tags: ['snapshots'],
        summary: 'Delete a snapshot (nodes then give back the space only it held)',
        params: SnapshotParams,
        response: { 204: { type: 'null', description: 'deleted' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      const snapshot = requireSnapshot(volume, request.params.snapshot);
      await commit(ctx, {
        type: 'deleteVolumeSnapshot',
        volumeId: volume.id,
        snapshotId: snapshot.id,
      });
      return reply.code(204).send();
    },
  );

  app.post<{
    Params: { name: string; snapshot: string };
    Body: { epoch: number; ok: boolean; nodeIds: string[]; pauseMs: number; reason: string };
  }>(
    '/v1/volumes/:name/snapshots/:snapshot/result',
    {
      schema: {
        querystring: NoQuery,
        tags: ['snapshots'],
        summary: "The attached host's engine reports the cut (agents call this)",
        params: SnapshotParams,
        body: SnapshotResultBody,
        response: { 200: SnapshotView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      const snapshot = requireSnapshot(volume, request.params.snapshot);
      await commit(ctx, {
        type: 'finishVolumeSnapshot',
        volumeId: volume.id,
        snapshotId: snapshot.id,
        ...request.body,
      });
      const current = requireVolume(ctx, request.params.name);
      return view(current, requireSnapshot(current, request.params.snapshot));
    },
  );

  app.post<{
    Params: { name: string; snapshot: string };
    Body: { nodeId: string; epoch: number; ok: boolean; reason: string };
  }>(
    '/v1/volumes/:name/snapshots/:snapshot/taken',
    {
      schema: {
        querystring: NoQuery,
        tags: ['snapshots'],
        summary:
          'A node reports the snapshot of a detached volume taken on its replica (nodes call this)',
        params: SnapshotParams,
        body: SnapshotTakenBody,
        response: { 200: SnapshotView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      const snapshot = requireSnapshot(volume, request.params.snapshot);
      await commit(ctx, {
        type: 'takeVolumeSnapshot',
        volumeId: volume.id,
        snapshotId: snapshot.id,
        ...request.body,
      });
      const current = requireVolume(ctx, request.params.name);
      return view(current, requireSnapshot(current, request.params.snapshot));
    },
  );

  app.post<{
    Params: { name: string };
    Body: { snapshot: string };
    Querystring: { waitMs?: number };
  }>(
    '/v1/volumes/:name/revert',
    {
      schema: {
        querystring: RevertQuery,
        tags: ['snapshots'],
        summary:
          'Revert a detached volume to one of its snapshots: 200 once every in-sync replica reads it again, 202 if still under way after waitMs (newer snapshots are kept)',
        params: VolumeNameParams,
        body: RevertBody,
        response: { 200: VolumeView, 202: VolumeView, ...errorResponses },
      },
    },
    async (request, reply) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      const snapshot = requireSnapshot(volume, request.body.snapshot);
      await commit(ctx, { type: 'revertVolume', volumeId: volume.id, snapshotId: snapshot.id });
      const polls = Math.ceil((request.query.waitMs ?? DEFAULT_WAIT_MS) / POLL_MS);
      for (let poll = 0; ; poll++) {
        const current = store.map.getVolume(volume.id);
        if (current === undefined) {
          throw new BallastError(
            'NOT_FOUND',
            `volume ${volume.name} was deleted during the revert`,
          );
        }
        if (!current.revert) return reply.code(200).send(current);
        if (poll >= polls) return reply.code(202).send(current);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
  );

  app.post<{ Params: { name: string }; Body: { nodeId: string; epoch: number } }>(
    '/v1/volumes/:name/revert/report',
    {
      schema: {
        querystring: NoQuery,
        tags: ['snapshots'],
        summary: 'A node reports its replica reverted (nodes call this)',
        params: VolumeNameParams,
        body: RevertReportBody,
        response: { 200: VolumeView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      await commit(ctx, { type: 'reportRevert', volumeId: volume.id, ...request.body });
      return requireVolume(ctx, request.params.name);
    },
  );
};
