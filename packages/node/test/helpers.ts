import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '@ballast/testkit';
import { DataPlaneClient, type DataPlaneClientOptions } from '@ballast/dataplane';
import type { StorageNodeConfig } from '../src/index.js';

export const SECRET = 'node-test-secret-0123456789';
export const CLUSTER = 'ballast';

interface Teardown {
  teardown(fn: () => unknown): void;
}

const here = dirname(fileURLToPath(import.meta.url));
export const LAUNCHER = join(here, 'fixtures', 'node-process.js');

export function tempDir(t: Teardown, prefix = 'ballast-node-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface ReplicaSpec {
  volumeId: string;
  sizeBytes: number;
  chunkSizeBytes?: number;
}

export interface NodeProcess {
  proc: ManagedProcess;
  dir: string;
  dataDir: string;
  /** Endpoints of the current incarnation (refreshed by start/restart). */
  endpoints: Record<string, string>;
  dataPlane: { host: string; port: number };
  start(): Promise<void>;
  /** SIGKILL, then start again on the same data directory. */
  crashAndRestart(): Promise<void>;
}

/**
 * A storage node in its own process (test/fixtures/node-process.ts), killed at teardown.
 * Its log is in `dir/node.log`.
 */
export async function startNodeProcess(
  t: Teardown,
  opts: { replicas?: ReplicaSpec[]; config?: Partial<StorageNodeConfig>; id?: string } = {},
): Promise<NodeProcess> {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  const id = opts.id ?? 'n1';
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      id,
      dataDir,
      listen: '127.0.0.1:0',
      opsListen: '127.0.0.1:0',
      clusterId: CLUSTER,
      dataPlaneSecret: SECRET,
      scrubBytesPerSecond: 0,
      replicas: opts.replicas ?? [],
      ...opts.config,
    }),
  );
  const proc = new ManagedProcess({
    id,
    command: process.execPath,
    args: ['--enable-source-maps', LAUNCHER, configPath],
    env: { ...process.env, BALLAST_PARENT_PID: String(process.pid) },
    logFile: join(dir, 'node.log'),
    readyTimeoutMs: 60_000,
    readyWhen: (_line, json) =>
      json && json.msg === 'ready' && typeof json.endpoints === 'object'
        ? json.endpoints
        : undefined,
  });
  t.teardown(() => proc.kill());
  const node: NodeProcess = {
    proc,
    dir,
    dataDir,
    endpoints: {},
    dataPlane: { host: '', port: 0 },
    start: async () => {
      node.endpoints = (await proc.start()) as Record<string, string>;
      const [host, port] = node.endpoints.dataPlane!.split(':');
      node.dataPlane = { host: host!, port: Number(port) };
    },
    crashAndRestart: async () => {
      await proc.kill();
      await node.start();
    },
  };
  await node.start();
  return node;
}

export async function connect(
  t: Teardown,
  node: NodeProcess | { dataPlane: { host: string; port: number } },
  opts: Partial<DataPlaneClientOptions> = {},
): Promise<DataPlaneClient> {
  const client = await DataPlaneClient.connect({
    host: node.dataPlane.host,
    port: node.dataPlane.port,
    clusterId: CLUSTER,
    clientId: 'test-agent',
    secret: SECRET,
    connectTimeoutMs: 10_000,
    ...opts,
  });
  t.teardown(() => client.destroy());
  return client;
}

/** Reads one sample of a Prometheus text exposition: sum over series matching all labels. */
export async function metricValue(
  url: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labelText = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : NaN;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFrom(envName: string): number {
  const fromEnv = process.env[envName];
  return fromEnv !== undefined ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
}

/** Bytes unique to (seed, position), fast enough for megabytes (xorshift over 32-bit words). */
export function pattern(seed: number, length: number): Buffer {
  const words = Math.ceil(length / 4);
  const buf = Buffer.allocUnsafe(words * 4);
  let x = (seed * 2654435761) >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf.writeUInt32LE(x, i * 4);
  }
  return length === buf.length ? buf : buf.subarray(0, length);
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
