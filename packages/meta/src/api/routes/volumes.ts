import type { FastifyPluginAsync } from 'fastify';
import {
  BallastError,
  formatSize,
  isBallastError,
  parseDuration,
  parseSize,
} from '@ballast/common';
import {
  BLOCK_SIZE_BYTES,
  DEFAULT_CHUNK_SIZE_BYTES,
  MAX_CHUNK_SIZE_BYTES,
  MAX_REPLICA_TIMEOUT_MS,
  MAX_VOLUME_SIZE_BYTES,
  MIN_CHUNK_SIZE_BYTES,
  MIN_REPLICA_TIMEOUT_MS,
  describeSelector,
  type Constraints,
  type Filesystem,
  type VolumeRecord,
  type VolumeSnapshot,
  type VolumeState,
} from '../../map/index.js';
import { placeReplicas } from '../../placement/index.js';
import { commit, requireLeader, requireVolume, type ApiContext } from '../context.js';
import { hostView } from './hosts.js';
import { explainEngine } from './engine-explanation.js';
import { paginate } from '../pagination.js';
import {
  AddReplicaBody,
  AttachBody,
  PromoteReplicaBody,
  RemoveReplicaQuery,
  CreateVolumeBody,
  DetachBody,
  OutOfSyncBody,
  ReplicaParams,
  ResizeVolumeBody,
  VolumeList,
  VolumeListQuery,
  VolumeExplanation,
  VolumeNameParams,
  VolumeView,
  errorResponses,
  NoQuery,
} from '../schemas.js';

type NameParams = { name: string };

/** Sizes that do not parse or fit are 422: the JSON was fine, the value is not usable. */
function bytesOf(input: number | string, what: string): number {
  let bytes: number;
  try {
    bytes = parseSize(input, what);
  } catch (err) {
    throw new BallastError('UNPROCESSABLE', (err as Error).message);
  }
  return bytes;
}

function volumeSize(input: number | string): number {
  const bytes = bytesOf(input, 'size');
  if (bytes <= 0) throw new BallastError('UNPROCESSABLE', 'size must be more than 0 bytes');
  if (bytes > MAX_VOLUME_SIZE_BYTES) {
    throw new BallastError(
      'UNPROCESSABLE',
      `size ${formatSize(bytes)} is more than the ${formatSize(MAX_VOLUME_SIZE_BYTES)} a volume may have`,
    );
  }
  if (bytes % BLOCK_SIZE_BYTES !== 0) {
    throw new BallastError(
      'UNPROCESSABLE',
      `size ${bytes} bytes is not a multiple of ${BLOCK_SIZE_BYTES} (the block size)`,
    );
  }
  return bytes;
}

/** A replica timeout from the API (ms or "5s"): 422 when it does not parse or is out of bounds. */
function replicaTimeout(input: number | string): number {
  let ms: number;
  try {
    ms = parseDuration(input, 'replicaTimeout');
  } catch (err) {
    throw new BallastError('UNPROCESSABLE', (err as Error).message);
  }
  if (!Number.isSafeInteger(ms) || ms < MIN_REPLICA_TIMEOUT_MS || ms > MAX_REPLICA_TIMEOUT_MS) {
    throw new BallastError(
      'UNPROCESSABLE',
      `replicaTimeout must be from ${MIN_REPLICA_TIMEOUT_MS} ms to ${MAX_REPLICA_TIMEOUT_MS / 1000} s, not ${String(input)}`,
    );
  }
  return ms;
}

function chunkSize(input: number | string | undefined): number {
  if (input === undefined) return DEFAULT_CHUNK_SIZE_BYTES;
  const bytes = bytesOf(input, 'chunkSize');
  if (bytes < MIN_CHUNK_SIZE_BYTES || bytes > MAX_CHUNK_SIZE_BYTES || (bytes & (bytes - 1)) !== 0) {
    throw new BallastError(
      'UNPROCESSABLE',
      `chunkSize must be a power of two from ${formatSize(MIN_CHUNK_SIZE_BYTES)} to ${formatSize(MAX_CHUNK_SIZE_BYTES)}`,
    );
  }
  return bytes;
}

interface VolumeSpec {
  sizeBytes: number;
  chunkSizeBytes: number;
  desiredReplicas: number;
  fs: Filesystem;
  constraints: Constraints;
  /** Compared only when the request names one. */
  replicaTimeoutMs?: number;
}

/** How an existing volume differs from a create request, in words; empty when it matches. */
function specDifferences(volume: VolumeRecord, wanted: VolumeSpec): string[] {
  const out: string[] = [];
  if (volume.sizeBytes !== wanted.sizeBytes)
    out.push(`size is ${formatSize(volume.sizeBytes)}, asked ${formatSize(wanted.sizeBytes)}`);
  if (volume.chunkSizeBytes !== wanted.chunkSizeBytes) {
    out.push(
      `chunk size is ${formatSize(volume.chunkSizeBytes)}, asked ${formatSize(wanted.chunkSizeBytes)}`,
    );
  }
  if (volume.desiredReplicas !== wanted.desiredReplicas) {
    out.push(`replicas is ${volume.desiredReplicas}, asked ${wanted.desiredReplicas}`);
  }
  if (volume.fs !== wanted.fs) out.push(`fs is ${volume.fs}, asked ${wanted.fs}`);
  if (volume.constraints.zoneSpread !== wanted.constraints.zoneSpread) {
    out.push(
      `zoneSpread is ${volume.constraints.zoneSpread}, asked ${wanted.constraints.zoneSpread}`,
    );
  }
  const have = describeSelector(volume.constraints.nodeSelector);
  const asked = describeSelector(wanted.constraints.nodeSelector);
  if (have !== asked) out.push(`nodeSelector is "${have}", asked "${asked}"`);
  if (
    wanted.replicaTimeoutMs !== undefined &&
    volume.replicaTimeoutMs !== wanted.replicaTimeoutMs
  ) {
    out.push(
      `replicaTimeout is ${volume.replicaTimeoutMs === undefined ? 'the default' : `${volume.replicaTimeoutMs} ms`}, asked ${wanted.replicaTimeoutMs} ms`,
    );
  }
  return out;
}

function existingOrConflict(volume: VolumeRecord, wanted: VolumeSpec): VolumeRecord {
  const differences = specDifferences(volume, wanted);
  if (differences.length === 0) return volume;
  throw new BallastError(
    'CONFLICT',
    `volume ${volume.name} already exists with a different spec: ${differences.join('; ')}`,
    {
      name: volume.name,
      differences,
    },
  );
}

/**
 * A refusal naming the host that holds a volume, with what the leader knows of that host's agent:
 * the operator (and an agent deciding on a takeover) sees whether the holder is alive. Only the
 * leader keeps liveness; elsewhere the refusal is returned as it is.
 */
function withHolderLiveness(ctx: ApiContext, err: unknown): unknown {
  if (!isBallastError(err, 'CONFLICT') || !ctx.store.isLeader()) return err;
  const holder = err.details?.host;
  if (typeof holder !== 'string') return err;
  const view = hostView(ctx, holder, ctx.clock());
  const seconds = (view.silentMs / 1000).toFixed(1);
  const liveness = view.alive
    ? `its agent was heard from ${seconds}s ago (alive)`
    : `its agent has been silent for ${seconds}s (presumed dead; a takeover with force fences it)`;
  return new BallastError('CONFLICT', `${err.message}; ${liveness}`, {
    ...err.details,
    holderAlive: view.alive,
    holderSilentMs: view.silentMs,
  });
}

export const volumeRoutes: FastifyPluginAsync<ApiContext> = async (app, ctx) => {
  const { store } = ctx;

  app.get<{ Querystring: { limit?: number; cursor?: string; state?: VolumeState; node?: string } }>(
    '/v1/volumes',
    {
      schema: {
        tags: ['volumes'],
        summary: 'List volumes, sorted by name',
        querystring: VolumeListQuery,
        response: { 200: VolumeList, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const { limit, cursor, state, node } = request.query;
      const page = paginate(store.map.listVolumes(), (v) => v.name, {
        limit,
        cursor,
        filter:
          state === undefined && node === undefined
            ? undefined
            : (v) =>
                (state === undefined || v.state === state) &&
                (node === undefined ||
                  v.replicas.some((r) => r.nodeId === node) ||
                  v.staleReplicas.some((r) => r.nodeId === node)),
      });
      return {
        ...page,
        items: page.items.map((v) => volumeView(ctx, v)),
        revision: store.map.revision,
      };
    },
  );

  app.post<{ Body: CreateVolumeBody }>(
    '/v1/volumes',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary:
          'Create a volume; idempotent: the same name and spec again returns the volume (200)',
        body: CreateVolumeBody,
        response: { 200: VolumeView, 201: VolumeView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const timeoutMs =
        body.replicaTimeout === undefined ? undefined : replicaTimeout(body.replicaTimeout);
      if (body.fromSnapshot !== undefined) await store.linearizableRead();
      const origin = body.fromSnapshot === undefined ? undefined : cloneOrigin(ctx, body);
      if (body.size === undefined && origin === undefined) {
        throw new BallastError('INVALID_ARGUMENT', 'body must have required property "size"');
      }
      const wanted: VolumeSpec = {
        sizeBytes: body.size === undefined ? origin!.snapshot.sizeBytes : volumeSize(body.size),
        chunkSizeBytes:
          origin !== undefined && body.chunkSize === undefined
            ? origin.volume.chunkSizeBytes
            : chunkSize(body.chunkSize),
        desiredReplicas: body.replicas ?? ctx.defaultReplicas,
        fs: body.fs ?? origin?.volume.fs ?? 'ext4',
        constraints: {
          nodeSelector: body.nodeSelector ?? {},
          zoneSpread: body.zoneSpread ?? 'preferred',
        },
        ...(timeoutMs !== undefined ? { replicaTimeoutMs: timeoutMs } : {}),
      };
      await store.linearizableRead();
      const existing = store.map.getVolumeByName(body.name);
      if (existing) {
        return reply.code(200).send(sameClone(existingOrConflict(existing, wanted), origin));
      }

      // A create that loses a race for the name answers with the winner (200, or 409 when its
      // spec differs). The refusal comes from the leader's log; this member may not have
      // applied the winner yet, so read linearizably before looking. If the winner is already
      // gone again (deleted meanwhile), the name is free: try again, a bounded number of times.
      for (let attempt = 0; ; attempt++) {
        const placement = placeReplicas(store.map, {
          count: wanted.desiredReplicas,
          sizeBytes: wanted.sizeBytes,
          nodeSelector: wanted.constraints.nodeSelector,
          zoneSpread: wanted.constraints.zoneSpread,
          preferHost: body.preferHost,
        });
        if (!placement.ok) {
          throw new BallastError(
            'UNPROCESSABLE',
            `cannot place volume ${body.name}: ${placement.reason}`,
            {
              missingReplicas: placement.missing,
            },
          );
        }
        const result = await store.propose({
          type: 'createVolume',
          at: ctx.clock(),
          volumeId: ctx.newId('volume'),
          name: body.name,
          ...wanted,
          replicaNodeIds: placement.nodeIds,
          ...(origin !== undefined
            ? { source: { volumeId: origin.volume.id, snapshotId: origin.snapshot.id } }
            : {}),
        });
        if (result.ok) return reply.code(201).send(result.value);
        const nameTaken =
          result.error.code === 'CONFLICT' && result.error.details?.name === body.name;
        if (!nameTaken || attempt >= 2) {
          throw new BallastError(result.error.code, result.error.message, result.error.details);
        }
        await store.linearizableRead();
        const raced = store.map.getVolumeByName(body.name);
        if (raced)
          return reply.code(200).send(sameClone(existingOrConflict(raced, wanted), origin));
      }
    },
  );

  app.get<{ Params: NameParams }>(
    '/v1/volumes/:name',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary: 'One volume, with its replica set, epoch, attachment and why it is in its state',
        params: VolumeNameParams,
        response: { 200: VolumeView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      return volumeView(ctx, requireVolume(ctx, request.params.name));
    },
  );

  app.get<{ Params: NameParams }>(
    '/v1/volumes/:name/explanation',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary:
          'Why a volume is in its state, what Ballast does next and when, and what the operator can do (leader only)',
        params: VolumeNameParams,
        response: { 200: VolumeExplanation, ...errorResponses },
      },
    },
    async (request) => {
      requireLeader(ctx, 'ask');
      await store.linearizableRead();
      return explainVolume(ctx, requireVolume(ctx, request.params.name));
    },
  );

  app.patch<{ Params: NameParams; Body: ResizeVolumeBody }>(
    '/v1/volumes/:name',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary: 'Grow a volume (also while attached) and change its options',
        params: VolumeNameParams,
        body: ResizeVolumeBody,
        response: { 200: VolumeView, ...errorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      const sizeBytes = body.size === undefined ? undefined : volumeSize(body.size);
      const timeoutMs =
        body.replicaTimeout === undefined || body.replicaTimeout === null
          ? body.replicaTimeout
          : replicaTimeout(body.replicaTimeout);
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      let value = volume as unknown;
      if (timeoutMs !== undefined) {
        value = await commit(ctx, {
          type: 'setVolumeOptions',
          volumeId: volume.id,
          replicaTimeoutMs: timeoutMs,
        });
      }
      if (sizeBytes !== undefined) {
        value = await commit(ctx, { type: 'resizeVolume', volumeId: volume.id, sizeBytes });
      }
      return value;
    },
  );

  app.delete<{ Params: NameParams }>(
    '/v1/volumes/:name',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary: 'Delete a detached volume (nodes then drop its replicas)',
        params: VolumeNameParams,
        response: { 204: { type: 'null', description: 'deleted' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      await commit(ctx, { type: 'deleteVolume', volumeId: volume.id });
      return reply.code(204).send();
    },
  );

  app.post<{ Params: NameParams; Body: AttachBody }>(
    '/v1/volumes/:name/attach',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary: 'Attach a volume to a host: takes a new epoch that fences every earlier writer',
        params: VolumeNameParams,
        body: AttachBody,
        response: { 200: VolumeView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      try {
        return await commit(ctx, {
          type: 'attachVolume',
          volumeId: volume.id,
          host: request.body.host,
          force: request.body.force ?? false,
          ...(request.body.mountPath !== undefined ? { mountPath: request.body.mountPath } : {}),
        });
      } catch (err) {
        throw withHolderLiveness(ctx, err);
      }
    },
  );

  app.post<{ Params: NameParams; Body: DetachBody }>(
    '/v1/volumes/:name/detach',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary:
          'Detach a volume: by its holder with the attach epoch, or by anyone with force (which fences the holder)',
        params: VolumeNameParams,
        body: DetachBody,
        response: { 200: VolumeView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      const { host, epoch, force } = request.body;
      return commit(ctx, {
        type: 'detachVolume',
        volumeId: volume.id,
        host,
        ...(epoch !== undefined ? { epoch } : {}),
        force: force ?? false,
      });
    },
  );

  app.post<{ Params: { name: string; nodeId: string }; Body: OutOfSyncBody }>(
    '/v1/volumes/:name/replicas/:nodeId/out-of-sync',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary:
          'An engine reports a replica that failed a write: it leaves the in-sync set (never the last one)',
        params: ReplicaParams,
        body: OutOfSyncBody,
        response: { 200: VolumeView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      return commit(ctx, {
        type: 'markReplicaOutOfSync',
        volumeId: volume.id,
        nodeId: request.params.nodeId,
        epoch: request.body.epoch,
        ...(request.body.incarnation !== undefined
          ? { incarnation: request.body.incarnation }
          : {}),
        reason: request.body.reason ?? 'write failed',
      });
    },
  );

  app.post<{ Params: NameParams; Body: AddReplicaBody }>(
    '/v1/volumes/:name/replicas',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary:
          'Add a replica on a node: it joins as rebuilding, with a rebuild task (and a move task when it replaces another)',
        description:
          "The node must be up, match the volume's selector, have room, and keep the spread rules against the other replicas (the one named in `replacing` excepted). A stale record on that node is taken over: its data makes the rebuild a delta. 409 CONFLICT when the node already holds a member or is not eligible (the detail says why), 422 when it lacks room or the set is full.",
        params: VolumeNameParams,
        body: AddReplicaBody,
        response: { 201: VolumeView, ...errorResponses },
      },
    },
    async (request, reply) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      const { nodeId, replacing } = request.body;
      const value = await commit(ctx, {
        type: 'addReplica',
        volumeId: volume.id,
        nodeId,
        ...(replacing !== undefined ? { replacing } : {}),
      });
      return reply.code(201).send(value);
    },
  );

  app.post<{ Params: { name: string; nodeId: string }; Body: PromoteReplicaBody }>(
    '/v1/volumes/:name/replicas/:nodeId/promote',
    {
      schema: {
        querystring: NoQuery,
        tags: ['volumes'],
        summary:
          'A rebuilt replica becomes in-sync; FENCED when the volume epoch moved on during the rebuild',
        description:
          'Idempotent: a replica already in sync answers 200 with the volume. The open rebuild task of the replica succeeds in the same commit.',
        params: ReplicaParams,
        body: PromoteReplicaBody,
        response: { 200: VolumeView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      return commit(ctx, {
        type: 'promoteReplica',
        volumeId: volume.id,
        nodeId: request.params.nodeId,
        epoch: request.body.epoch,
        ...(request.body.incarnation !== undefined
          ? { incarnation: request.body.incarnation }
          : {}),
      });
    },
  );

  app.delete<{ Params: { name: string; nodeId: string }; Querystring: { force?: boolean } }>(
    '/v1/volumes/:name/replicas/:nodeId',
    {
      schema: {
        querystring: RemoveReplicaQuery,
        tags: ['volumes'],
        summary:
          'Remove a replica or a stale record; never the last in-sync one, and not below the desired count without force',
        params: ReplicaParams,
        response: { 200: VolumeView, ...errorResponses },
      },
    },
    async (request) => {
      await store.linearizableRead();
      const volume = requireVolume(ctx, request.params.name);
      return commit(ctx, {
        type: 'removeReplica',
        volumeId: volume.id,
        nodeId: request.params.nodeId,
        force: request.query.force ?? false,
      });
    },
  );
};

/**
 * A volume record with, on the leader, its holder's engine in short when the holder's agent
 * reports it not plainly serving (the reports live in the leader's memory only).
 */
function volumeView(ctx: ApiContext, volume: VolumeRecord): VolumeView {
  const host = volume.attachment?.host;
  if (host === undefined || !ctx.store.isLeader()) return volume;
  const report = ctx.hostLiveness.engineReport(host, volume.id);
  if (report === undefined) return volume;
  const since =
    report.state === 'recovered' ? (report.recoveredAt ?? report.failedAt) : report.failedAt;
  return { ...volume, engine: { host, state: report.state, since } };
}

/** The volume and snapshot a create's `fromSnapshot` names (404 if either is missing). */
function cloneOrigin(
  ctx: ApiContext,
  body: CreateVolumeBody,
): { volume: VolumeRecord; snapshot: VolumeSnapshot } {
  const ref = body.fromSnapshot!;
  const at = ref.indexOf('@');
  const volume = requireVolume(ctx, ref.slice(0, at));
  const name = ref.slice(at + 1);
  const snapshot = (volume.snapshots ?? []).find((s) => s.name === name);
  if (snapshot === undefined) {
    throw new BallastError('NOT_FOUND', `volume ${volume.name} has no snapshot ${name}`, {
      volume: volume.name,
      snapshot: name,
    });
  }
  if (snapshot.state !== 'ready') {
    throw new BallastError(
      'CONFLICT',
      `snapshot ${ref} is ${snapshot.state}; only a ready snapshot can be cloned`,
      { snapshot: ref, state: snapshot.state },
    );
  }
  return { volume, snapshot };
}

/** An idempotent create of a clone answers with the volume only if it is that clone. */
function sameClone(
  existing: VolumeRecord,
  origin: { volume: VolumeRecord; snapshot: VolumeSnapshot } | undefined,
): VolumeRecord {
  const same =
    origin === undefined
      ? existing.source === undefined
      : existing.source?.volumeId === origin.volume.id &&
        existing.source.snapshotId === origin.snapshot.id;
  if (!same) {
    throw new BallastError(
      'CONFLICT',
      `a volume named ${existing.name} already exists ${existing.source ? `(a clone of ${existing.source.volume}@${existing.source.snapshot})` : '(not a clone)'}`,
      { name: existing.name },
    );
  }
  return existing;
}

/** What `GET /v1/volumes/:name/explanation` answers: the map's record and the leader's plan. */
export function explainVolume(ctx: ApiContext, volume: VolumeRecord): VolumeExplanation {
  const map = ctx.store.map;
  const events: VolumeExplanation['events'] = [];
  for (const stale of volume.staleReplicas) {
    events.push({
      at: stale.since,
      text: `the replica on ${stale.nodeId} left the in-sync set at epoch ${stale.epoch}: ${stale.reason}`,
    });
  }
  for (const r of volume.replicas) {
    const node = map.getNode(r.nodeId);
    if (node === undefined || node.state === 'up' || node.state === 'cordoned') continue;
    events.push({
      at: node.stateSince,
      text: `node ${node.id} (${r.role} replica) is ${node.state}: ${node.stateReason}`,
    });
  }
  // The holder's agent may say more than the map: its engine failed, or was reopened (D22).
  const host = volume.attachment?.host;
  const report = host === undefined ? undefined : ctx.hostLiveness.engineReport(host, volume.id);
  const engine =
    host === undefined || report === undefined
      ? undefined
      : explainEngine(volume, report, hostView(ctx, host, ctx.clock()));
  events.push(...(engine?.events ?? []));
  events.sort((a, b) => (a.at ?? 0) - (b.at ?? 0));

  const next: VolumeExplanation['next'] = [...(engine?.next ?? [])];
  const actions: string[] = [...(engine?.actions ?? [])];
  for (const task of map.listTasks()) {
    if (task.volumeId !== volume.id || task.finishedAt !== null) continue;
    const progress =
      task.totalBytes > 0
        ? `${Math.floor((task.doneBytes / task.totalBytes) * 100)}% (${formatSize(task.doneBytes)} of ${formatSize(task.totalBytes)})`
        : 'starting';
    next.push({
      loop: 'tasks',
      text: `${task.kind} of the replica on ${task.nodeId ?? '?'}${task.sourceNodeId !== null ? ` from ${task.sourceNodeId}` : ''}: ${task.state}, ${progress}`,
      until: null,
    });
  }
  const outlook = ctx.outlook(volume.id);
  for (const d of outlook?.doing ?? []) next.push({ loop: d.loop, text: d.why, until: null });
  for (const w of outlook?.waiting ?? []) {
    next.push({ loop: w.loop, text: w.reason, until: w.untilMs ?? null });
    if (w.hint !== undefined && !actions.includes(w.hint)) actions.push(w.hint);
  }
  if (volume.state !== 'healthy' && next.length === 0 && outlook !== undefined) {
    next.push({
      loop: 'repair',
      text:
        volume.attachment !== null
          ? `nothing planned: the engine on ${volume.attachment.host} serves the volume from its in-sync replicas, and the control loops add a replica when one is missing`
          : 'nothing planned in the last tick: the control loops look again every second',
      until: null,
    });
  }
  return {
    name: volume.name,
    state: engine?.state?.state ?? volume.state,
    stateReason: engine?.state?.stateReason ?? volume.stateReason,
    events,
    next,
    actions,
    ...(engine !== undefined ? { engine: engine.engine } : {}),
    plannedAt: outlook?.plannedAtMs ?? null,
  };
}
