// The engine's deterministic world: every part runs in this process on virtual time (SimClock),
// nodes are real chunk stores over MemoryStorage (a disk with a page cache, EIO, ENOSPC, torn
// writes and power cuts), the network is FaultySession on the same clock, meta is the real
// cluster map in a DirectMetaStore. Nothing waits on a real timer or on real I/O, so a run is
// a function of its seed and replays exactly.
import type { SimClock } from '@ballast/common';
import {
  ChunkStore,
  ChunkStoreReplicaStore,
  MemoryStorage,
  type StorageFault,
  type StorageOp,
} from '@ballast/chunkstore';
import {
  DirectControlPlane,
  DirectMetaStore,
  type Command,
  type VolumeRecord,
} from '@ballast/meta';
import { LocalSession, type SessionFactory } from '@ballast/session';
import { VolumeEngine, type VolumeEngineOptions } from '../../src/engine.js';
import { FaultySession, type CallInfo, type Fault } from './faulty-session.js';

const PEER = { clientId: 'engine', remoteAddress: 'in-process' };
const NONE: Fault = { type: 'none' };

export interface SimNode {
  readonly nodeId: string;
  readonly storage: MemoryStorage;
  /** Null while the node is off. */
  store: ChunkStore | null;
  replicaStore: ChunkStoreReplicaStore | null;
  /** Every session opened to the node, newest last. */
  sessions: FaultySession[];
  /** Storage fault policy of this node (none by default). */
  storageFault: (op: StorageOp) => StorageFault;
}

export interface SimWorldOptions {
  clock: SimClock;
  nodes: number;
  replicas: number;
  sizeBytes: number;
  chunkSizeBytes: number;
  /** Per node: size of its disk (default unbounded). */
  capacityBytes?: (nodeId: string) => number | undefined;
  /** Virtual duration of one sync on a node's disk. */
  syncDelayMs: () => number;
}

export class SimWorld {
  readonly clock: SimClock;
  readonly meta: DirectMetaStore;
  readonly control: DirectControlPlane;
  readonly nodes = new Map<string, SimNode>();
  readonly volumeId = 'vol-1';
  readonly volumeName = 'vol1';
  /** Network fault policy for every call on every session. */
  decide: (call: CallInfo) => Fault = () => NONE;
  /** Debugging: every call that reached a replica, with its outcome there. */
  observe?: (call: CallInfo, fault: Fault, outcome: string) => void;

  private constructor(readonly options: SimWorldOptions) {
    this.clock = options.clock;
    this.meta = new DirectMetaStore({ clock: () => this.clock.wallMs() });
    this.control = new DirectControlPlane(this.meta, () => this.clock.wallMs());
  }

  static async create(options: SimWorldOptions): Promise<SimWorld> {
    const world = new SimWorld(options);
    for (let i = 1; i <= options.nodes; i++) {
      const nodeId = `n${i}`;
      const node: SimNode = {
        nodeId,
        storage: new MemoryStorage({
          location: `sim/${nodeId}`,
          clock: world.clock,
          syncDelayMs: options.syncDelayMs,
          capacityBytes: options.capacityBytes?.(nodeId),
          fault: (op) => node.storageFault(op),
        }),
        store: null,
        replicaStore: null,
        sessions: [],
        storageFault: () => null,
      };
      world.nodes.set(nodeId, node);
      await world.propose({
        type: 'registerNode',
        at: world.clock.wallMs(),
        nodeId,
        address: `10.0.0.${i}:7100`,
        labels: { zone: 'z1', host: `host${i}` },
        capacityBytes: 2 ** 40,
        usedBytes: 0,
      });
      await world.startNode(nodeId);
    }
    const replicaNodes = [...world.nodes.keys()].slice(0, options.replicas);
    await world.propose({
      type: 'createVolume',
      at: world.clock.wallMs(),
      volumeId: world.volumeId,
      name: world.volumeName,
      sizeBytes: options.sizeBytes,
      chunkSizeBytes: options.chunkSizeBytes,
      desiredReplicas: replicaNodes.length,
      constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
      fs: 'ext4',
      replicaNodeIds: replicaNodes,
    });
    for (const nodeId of replicaNodes) await world.createReplica(nodeId);
    return world;
  }

  node(nodeId: string): SimNode {
    const node = this.nodes.get(nodeId);
    if (node === undefined) throw new Error(`no node ${nodeId}`);
    return node;
  }

  async propose(command: Command): Promise<void> {
    const result = await this.meta.propose(command);
    if (!result.ok) throw new Error(`${command.type} refused: ${result.error.message}`);
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

  async createReplica(nodeId: string): Promise<void> {
    await this.node(nodeId).store!.createReplica(this.volumeId, {
      sizeBytes: this.meta.map.getVolume(this.volumeId)?.sizeBytes ?? this.options.sizeBytes,
      chunkSizeBytes: this.options.chunkSizeBytes,
    });
  }

  /** Starts a node's store on its disk (recovery runs after a power cut). */
  async startNode(nodeId: string): Promise<void> {
    const node = this.node(nodeId);
    if (node.store !== null) return;
    const store = await ChunkStore.open({
      dir: node.storage.location,
      storage: node.storage,
      clock: this.clock,
    });
    node.store = store;
    node.replicaStore = new ChunkStoreReplicaStore(store);
    await this.followSize(nodeId);
  }

  /** Grows the node's replica to the map's size, as a node following the map does. */
  async followSize(nodeId: string): Promise<void> {
    const store = this.node(nodeId).store;
    const volume = this.meta.map.getVolume(this.volumeId);
    if (store === null || volume === undefined || !store.hasReplica(this.volumeId)) return;
    const replica = store.replica(this.volumeId);
    if (replica.state !== 'open' || replica.sizeBytes >= volume.sizeBytes) return;
    // A failure here (a failing disk) leaves it smaller; the engine then waits for it or drops it.
    await store.resizeReplica(this.volumeId, volume.sizeBytes).catch(() => undefined);
  }

  /** The map grows the volume; every node that is up grows its replica. */
  async resize(sizeBytes: number): Promise<void> {
    await this.propose({
      type: 'resizeVolume',
      at: this.clock.wallMs(),
      volumeId: this.volumeId,
      sizeBytes,
    });
    for (const nodeId of this.nodes.keys()) await this.followSize(nodeId);
  }

  /**
   * Cuts a node's power: its sessions fall silent, writes not yet synced are lost but for a
   * random subset of their sectors. Synchronous, so it can fire from a timer mid-batch. The
   * store object is dropped (`stopNode` finishes that).
   */
  cutPower(nodeId: string, random: () => number): number {
    const node = this.node(nodeId);
    for (const session of node.sessions) session.silence();
    return node.storage.powerCut(random);
  }

  /** Drops the node's store without flushing (after cutPower, or as a crash that keeps the disk cache). */
  async stopNode(nodeId: string): Promise<void> {
    const node = this.node(nodeId);
    const store = node.store;
    node.store = null;
    node.replicaStore = null;
    for (const session of node.sessions) session.silence();
    if (store !== null) await store.abandon();
  }

  /** Whether a node's store is up and holds a replica of the volume that can serve. */
  replicaUsable(nodeId: string): boolean {
    const store = this.node(nodeId).store;
    if (store === null || !store.hasReplica(this.volumeId)) return false;
    return store.replica(this.volumeId).state === 'open';
  }

  factory(): SessionFactory {
    return async (nodeId, spec) => {
      const node = this.node(nodeId);
      const replicaStore = node.replicaStore;
      // A node without power never answers the connection attempt (the engine's open timeout
      // ends the wait).
      if (replicaStore === null) return new Promise<never>(() => undefined);
      const inner = await LocalSession.open(nodeId, replicaStore, spec, PEER, this.clock);
      const session = new FaultySession(inner, this.clock);
      session.decide = (call) => this.decide(call);
      if (this.observe !== undefined) session.observe = this.observe;
      node.sessions.push(session);
      return session;
    };
  }

  /** The newest session to `nodeId`. */
  session(nodeId: string): FaultySession | undefined {
    const list = this.node(nodeId).sessions;
    return list[list.length - 1];
  }

  /** Attaches the volume (taking it over) and opens an engine at the new epoch. */
  async openEngine(overrides: Partial<VolumeEngineOptions> = {}): Promise<VolumeEngine> {
    await this.propose({
      type: 'attachVolume',
      at: this.clock.wallMs(),
      volumeId: this.volumeId,
      host: 'agent1',
      force: true,
    });
    return VolumeEngine.open({
      volume: this.volume(),
      epoch: this.volume().attachment!.epoch,
      connect: this.factory(),
      controlPlane: this.control,
      clock: this.clock,
      ...overrides,
    });
  }

  /** The replica's whole contents on a node, read and verified by its store. */
  contents(nodeId: string): Buffer {
    return this.node(nodeId).store!.replica(this.volumeId).read(0, this.volume().sizeBytes);
  }
}
