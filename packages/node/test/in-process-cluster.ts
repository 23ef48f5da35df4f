// A small cluster in this process for the rebuild tests: real meta members (Raft, REST API,
// watch) and real storage nodes (chunk store, data plane on TCP) that register, heartbeat and
// follow the map with MetaSync, exactly as `ballastd node` composes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createLogger, type Logger } from '@ballast/common';
import { DataPlaneClient, type ClientSession } from '@ballast/dataplane';
import { startMetaMember, type RunningMember } from '@ballast/meta';
import { freePort, waitFor } from '@ballast/testkit';
import {
  MetaSync,
  startStorageNode,
  type RebuildOptions,
  type StartStorageNodeOptions,
  type StorageNode,
  type StorageNodeConfig,
} from '../src/index.js';

export const TOKEN = 'rebuild-test-token-0123456789';
export const SECRET = 'rebuild-test-secret-0123456789';
export const MiB = 1024 * 1024;

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export function logger(name: string): Logger {
  return createLogger({
    name,
    level: process.env.BALLAST_TEST_LOG_LEVEL ?? 'silent',
    pretty: false,
    destination: 2,
  });
}

export function tempDir(t: Teardown, prefix = 'ballast-rebuild-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Raft first, then the API (the other order waits for the peers' Raft sockets). */
async function closeMember(m: RunningMember): Promise<void> {
  await m.store.member.close().catch(() => undefined);
  await m.app.close().catch(() => undefined);
}

/** One meta member on loopback (stopped at teardown); returns its API URL. */
export async function startMeta(t: Teardown, dir: string): Promise<string> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const member = await startMetaMember(
    {
      id: 'm1',
      dataDir: join(dir, 'm1'),
      host: '127.0.0.1',
      port,
      peers: { m1: url },
      clusterId: 'test',
      token: TOKEN,
      // Paper nodes registered by some tests do not heartbeat.
      nodeTimeoutMs: 120_000,
      // The tests drive replica changes by hand; meta's control loops (repair re-adding a
      // replica marked out of sync) would race them. The process tests run with the loops on.
      controlIntervalMs: 3_600_000,
    },
    logger('meta/m1'),
  );
  t.teardown(() => closeMember(member));
  await waitFor('a meta leader', () => member.store.isLeader(), { timeoutMs: 20_000 });
  return url;
}

export async function api<T = Record<string, unknown>>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** `api` that throws unless the answer has the expected status. */
export async function apiOk<T = Record<string, unknown>>(
  url: string,
  method: string,
  path: string,
  body: unknown,
  status: number,
): Promise<T> {
  const r = await api<T>(url, method, path, body);
  if (r.status !== status) {
    throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return r.body;
}

export interface VolumeView {
  id: string;
  name: string;
  epoch: number;
  sizeBytes: number;
  chunkSizeBytes: number;
  replicas: Array<{ nodeId: string; role: string; incarnation?: number }>;
  staleReplicas: Array<{ nodeId: string; incarnation?: number }>;
  attachment: { host: string; epoch: number } | null;
}

/** The incarnation of the replica (or stale copy) on `nodeId` in the map: part of its fence. */
export function incarnationOn(v: VolumeView, nodeId: string): number {
  const member = v.replicas.find((r) => r.nodeId === nodeId);
  const stale = v.staleReplicas.find((r) => r.nodeId === nodeId);
  return member?.incarnation ?? stale?.incarnation ?? 0;
}

export interface TaskView {
  id: string;
  kind: string;
  volumeId: string | null;
  nodeId: string | null;
  sourceNodeId: string | null;
  state: string;
  doneBytes: number;
  totalBytes: number;
}

export interface SyncedNode {
  id: string;
  node: StorageNode;
  sync: MetaSync;
  address: { host: string; port: number };
}

/** A storage node with its MetaSync, both closed at teardown. */
export async function startSyncedNode(
  t: Teardown,
  dir: string,
  metaUrl: string,
  id: string,
  opts: {
    zone?: string;
    config?: Partial<StorageNodeConfig>;
    rebuild?: RebuildOptions;
    options?: StartStorageNodeOptions;
  } = {},
): Promise<SyncedNode> {
  const log = logger(`node/${id}`);
  const node = await startStorageNode(
    {
      id,
      dataDir: join(dir, id),
      dataPlaneSecret: SECRET,
      scrubBytesPerSecond: 0,
      labels: { zone: opts.zone ?? 'z1', host: `host-${id}` },
      capacity: '10GiB',
      ...opts.config,
    },
    log,
    { rebuild: opts.rebuild ?? { retryMinMs: 50, retryMaxMs: 500 }, ...opts.options },
  );
  const sync = new MetaSync({
    nodeId: id,
    address: node.endpoints.dataPlane!,
    labels: { zone: opts.zone ?? 'z1', host: `host-${id}` },
    metaUrls: [metaUrl],
    token: TOKEN,
    replicas: node.replicas,
    capacity: () => node.capacity(),
    log,
    registry: new Registry(),
    heartbeatIntervalMs: 300,
    orphanGraceMs: 60_000,
    fullPassIntervalMs: 2_000,
  });
  t.teardown(async () => {
    await sync.close();
    await node.close();
  });
  sync.start();
  if (!(await sync.waitRegistered(20_000))) throw new Error(`${id} did not register`);
  if (!(await sync.waitSynced(20_000))) throw new Error(`${id} did not sync the map`);
  const [host, port] = node.endpoints.dataPlane!.split(':');
  return { id, node, sync, address: { host: host!, port: Number(port) } };
}

/** A data-plane client to a node, as an agent's engine would have (destroyed at teardown). */
export async function dataPlane(
  t: Teardown,
  address: { host: string; port: number },
  clientId = 'test-writer',
): Promise<DataPlaneClient> {
  const client = await DataPlaneClient.connect({
    host: address.host,
    port: address.port,
    clusterId: 'ballast',
    clientId,
    secret: SECRET,
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
  });
  t.teardown(() => client.destroy());
  return client;
}

/** Reads a whole replica through a session, in 4 MiB requests. */
export async function readAll(session: ClientSession, sizeBytes: number): Promise<Buffer> {
  const out = Buffer.alloc(sizeBytes);
  const step = 4 * MiB;
  for (let off = 0; off < sizeBytes; off += step) {
    const n = Math.min(step, sizeBytes - off);
    (await session.read(off, n)).copy(out, off);
  }
  return out;
}

/** Sum of a metric's samples (matching labels) in a registry. */
export async function metricSum(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  // Some counters are brought up to date by another metric's collect: scrape everything first.
  await registry.metrics();
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return NaN;
  const data = await metric.get();
  let sum = 0;
  for (const v of data.values) {
    const l = v.labels as Record<string, string | number>;
    if (Object.entries(labels).every(([k, want]) => String(l[k]) === want)) sum += v.value;
  }
  return sum;
}

export async function volume(url: string, name: string): Promise<VolumeView> {
  return apiOk<VolumeView>(url, 'GET', `/v1/volumes/${name}`, undefined, 200);
}

export async function waitForRole(
  url: string,
  name: string,
  nodeId: string,
  role: string,
  timeoutMs = 30_000,
): Promise<VolumeView> {
  return waitFor(
    `${nodeId} ${role} in ${name}`,
    async () => {
      const v = await volume(url, name);
      return v.replicas.some((r) => r.nodeId === nodeId && r.role === role) ? v : undefined;
    },
    { timeoutMs },
  );
}
