// A cluster in one process: real chunk stores (real files, LevelDB, fsync) for the nodes, the
// real cluster map in a DirectMetaStore, LocalSessions wrapped in FaultySessions for the
// network. No sockets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkStore, ChunkStoreReplicaStore } from '@ballast/chunkstore';
import { LocalSession, type SessionErrorKind, type SessionFactory } from '@ballast/session';
import {
  DirectControlPlane,
  DirectMetaStore,
  type Command,
  type VolumeRecord,
} from '@ballast/meta';
import { VolumeEngine, type VolumeEngineOptions } from '../../src/engine.js';
import { FaultySession, type CallInfo, type Fault } from './faulty-session.js';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface LocalClusterOptions {
  nodes: number;
  /** Replicas of the volume, on the first nodes (default: every node). */
  replicas?: number;
  sizeBytes: number;
  chunkSizeBytes: number;
}

const NONE: Fault = { type: 'none' };
const PEER = { clientId: 'engine', remoteAddress: 'in-process' };

export class LocalCluster {
  readonly meta = new DirectMetaStore();
  readonly control = new DirectControlPlane(this.meta);
  readonly stores = new Map<string, ChunkStore>();
  private readonly replicaStores = new WeakMap<ChunkStore, ChunkStoreReplicaStore>();
  /** Every session opened to each node, newest last. */
  readonly sessions = new Map<string, FaultySession[]>();
  readonly volumeId = 'vol-1';
  readonly volumeName = 'vol1';
  readonly nodeIds: string[];
  /** Fault policy for every call on every session opened from now on (and open ones). */
  decide: (call: CallInfo) => Fault = () => NONE;
  private readonly engines = new Set<VolumeEngine>();

  private constructor(
    readonly dir: string,
    readonly options: LocalClusterOptions,
  ) {
    this.nodeIds = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  }

  static async create(t: Teardown, options: LocalClusterOptions): Promise<LocalCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-engine-'));
    const cluster = new LocalCluster(dir, options);
    t.teardown(() => cluster.destroy());
    for (const [i, nodeId] of cluster.nodeIds.entries()) {
      await cluster.propose({
        type: 'registerNode',
        at: Date.now(),
        nodeId,
        address: `127.0.0.1:${7100 + i}`,
        labels: { zone: 'z1', host: `host${i + 1}` },
        capacityBytes: 2 ** 40,
        usedBytes: 0,
      });
      cluster.stores.set(nodeId, await ChunkStore.open({ dir: join(dir, nodeId) }));
    }
    const replicaNodes = cluster.nodeIds.slice(0, options.replicas ?? options.nodes);
    await cluster.propose({
      type: 'createVolume',
      at: Date.now(),
      volumeId: cluster.volumeId,
      name: cluster.volumeName,
      sizeBytes: options.sizeBytes,
      chunkSizeBytes: options.chunkSizeBytes,
      desiredReplicas: replicaNodes.length,
      constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
      fs: 'ext4',
      replicaNodeIds: replicaNodes,
    });
    for (const nodeId of replicaNodes) await cluster.createReplica(nodeId);
    return cluster;
  }

  async propose(command: Command): Promise<void> {
    const result = await this.meta.propose(command);
    if (!result.ok) throw new Error(`${command.type} refused: ${result.error.message}`);
  }

  async createReplica(nodeId: string): Promise<void> {
    await this.store(nodeId).createReplica(this.volumeId, {
      sizeBytes: this.options.sizeBytes,
      chunkSizeBytes: this.options.chunkSizeBytes,
    });
  }

  /** The node's store as sessions see it (a new one when the store was opened again). */
  replicaStore(nodeId: string): ChunkStoreReplicaStore {
    const store = this.store(nodeId);
    let replicaStore = this.replicaStores.get(store);
    if (replicaStore === undefined) {
      replicaStore = new ChunkStoreReplicaStore(store);
      this.replicaStores.set(store, replicaStore);
    }
    return replicaStore;
  }

  store(nodeId: string): ChunkStore {
    const s = this.stores.get(nodeId);
    if (s === undefined) throw new Error(`no store for ${nodeId}`);
    return s;
  }

  volume(): VolumeRecord {
    const v = this.meta.map.getVolume(this.volumeId);
    if (v === undefined) throw new Error('volume vanished');
    return v;
  }

  inSyncNodes(): string[] {
    return this.volume()
      .replicas.filter((r) => r.role === 'in-sync')
      .map((r) => r.nodeId);
  }

  /** Attaches the volume to `host` (force: take it over) and returns the new epoch. */
  async attach(host = 'agent1', force = false): Promise<number> {
    await this.propose({
      type: 'attachVolume',
      at: Date.now(),
      volumeId: this.volumeId,
      host,
      force,
    });
    return this.volume().attachment!.epoch;
  }

  async detach(host: string, epoch: number): Promise<void> {
    await this.propose({
      type: 'detachVolume',
      at: Date.now(),
      volumeId: this.volumeId,
      host,
      epoch,
      force: false,
    });
  }

  factory(): SessionFactory {
    return async (nodeId, spec) => {
      const inner = await LocalSession.open(nodeId, this.replicaStore(nodeId), spec, PEER);
      const session = new FaultySession(inner);
      session.decide = (call) => this.decide(call);
      const list = this.sessions.get(nodeId) ?? [];
      list.push(session);
      this.sessions.set(nodeId, list);
      return session;
    };
  }

  /** The newest session to `nodeId`. */
  session(nodeId: string): FaultySession {
    const list = this.sessions.get(nodeId);
    if (!list || list.length === 0) throw new Error(`no session to ${nodeId}`);
    return list[list.length - 1]!;
  }

  async openEngine(
    epoch: number,
    overrides: Partial<VolumeEngineOptions> = {},
  ): Promise<VolumeEngine> {
    const engine = await VolumeEngine.open({
      volume: this.volume(),
      epoch,
      connect: this.factory(),
      controlPlane: this.control,
      replicaTimeoutMs: 5000,
      controlPlaneTimeoutMs: 5000,
      ...overrides,
    });
    this.engines.add(engine);
    return engine;
  }

  /** The replica's whole contents, read and verified by the store itself. */
  contents(nodeId: string): Buffer {
    return this.store(nodeId).replica(this.volumeId).read(0, this.options.sizeBytes);
  }

  /** A node crash: the store is dropped without flushing and opened again (recovery runs). */
  async crashNode(nodeId: string): Promise<void> {
    await this.store(nodeId).abandon();
    await this.reopenNode(nodeId);
  }

  /** Opens the node's store again (after `abandon` or `close`). */
  async reopenNode(nodeId: string): Promise<void> {
    this.stores.set(nodeId, await ChunkStore.open({ dir: join(this.dir, nodeId) }));
  }

  async destroy(): Promise<void> {
    for (const e of this.engines) await e.abandon();
    this.meta.close();
    for (const s of this.stores.values()) await s.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Deterministic PRNG (mulberry32) for seeded simulations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stable 32-bit mix of integers, for fault decisions keyed by (seed, node, call, ...). */
export function hash32(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return (h ^ (h >>> 15)) >>> 0;
}

/** The session errors the simulations inject. */
export const FAIL_KINDS: SessionErrorKind[] = [
  'io',
  'disconnected',
  'timeout',
  'no-space',
  'checksum',
];

/** A number per session call kind, for hash32. */
export const CALL_CODES: Record<string, number> = {
  read: 1,
  write: 2,
  trim: 3,
  zero: 4,
  flush: 5,
  chunkMap: 6,
  readChunk: 7,
  writeChunk: 8,
  markClean: 9,
  repair: 10,
  size: 11,
  snapshot: 12,
};

/** A fresh payload whose bytes say who wrote them (seeded). */
export function pattern(length: number, tag: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let x = (tag * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}
