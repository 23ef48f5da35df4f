// Replicas behind real data-plane servers (real TCP, in this process) over MemoryReplicaStore,
// the cluster map in a DirectMetaStore, and engines opened over remoteSessionFactory.
import { DataPlaneServer, remoteSessionFactory } from '@ballast/dataplane';
import { DirectControlPlane, DirectMetaStore, type Command } from '@ballast/meta';
import { MemoryReplicaStore, normaliseChunkMap, type SessionFactory } from '@ballast/session';
import { VolumeEngine } from '../../src/index.js';

export const KiB = 1024;
export const CHUNK = 64 * KiB;
export const SIZE = 16 * CHUNK;
export const VOLUME_ID = 'vol-dp';
const CLUSTER_ID = 'dp-cluster';
const SECRET = 'dataplane-reconcile-secret-0123456789';

export interface TestNode {
  id: string;
  store: MemoryReplicaStore;
  address: string;
  /** Chunk indices installed on this node (WriteChunk), in order. */
  installs: number[];
}

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function setupDataPlaneCluster(
  t: Teardown,
  opts: { legacyMaps: boolean; sizeBytes?: number },
): Promise<{
  nodes: TestNode[];
  meta: DirectMetaStore;
  open: (host: string) => Promise<VolumeEngine>;
}> {
  const nodes: TestNode[] = [];
  for (const id of ['n1', 'n2']) {
    const store = new MemoryReplicaStore();
    store.createVolume(VOLUME_ID, opts.sizeBytes ?? SIZE, CHUNK);
    const node: TestNode = { id, store, address: '', installs: [] };
    const writeChunk = store.writeChunk.bind(store);
    store.writeChunk = (v, index, generation, data) => {
      node.installs.push(index);
      return writeChunk(v, index, generation, data);
    };
    const server = new DataPlaneServer({
      store,
      clusterId: CLUSTER_ID,
      nodeId: id,
      secret: SECRET,
    });
    const { port } = await server.listen('127.0.0.1', 0);
    t.teardown(() => server.close());
    node.address = `127.0.0.1:${port}`;
    nodes.push(node);
  }
  const meta = new DirectMetaStore();
  t.teardown(() => meta.close());
  const propose = async (command: Command): Promise<void> => {
    const result = await meta.propose(command);
    if (!result.ok) throw new Error(`${command.type}: ${result.error.message}`);
  };
  for (const [i, n] of nodes.entries()) {
    await propose({
      type: 'registerNode',
      at: Date.now(),
      nodeId: n.id,
      address: n.address,
      labels: { zone: 'z', host: `h${i}` },
      capacityBytes: 2 ** 40,
      usedBytes: 0,
    });
  }
  await propose({
    type: 'createVolume',
    at: Date.now(),
    volumeId: VOLUME_ID,
    name: 'dp',
    sizeBytes: opts.sizeBytes ?? SIZE,
    chunkSizeBytes: CHUNK,
    desiredReplicas: 2,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: nodes.map((n) => n.id),
  });
  const open = async (host: string): Promise<VolumeEngine> => {
    await propose({ type: 'attachVolume', at: Date.now(), volumeId: VOLUME_ID, host, force: true });
    const volume = meta.map.getVolume(VOLUME_ID)!;
    const remote = remoteSessionFactory({
      addressOf: (id) => nodes.find((n) => n.id === id)!.address,
      clusterId: CLUSTER_ID,
      clientId: `agent-${host}`,
      secret: SECRET,
    });
    // Maps as nodes before the `unclean` and `hole` fields sent them: unclean folded into dirty.
    const legacy: SessionFactory = async (nodeId, spec) => {
      const session = await remote(nodeId, spec);
      const chunkMap = session.chunkMap.bind(session);
      session.chunkMap = async () =>
        normaliseChunkMap(
          (await chunkMap()).map((c) => ({
            index: c.index,
            generation: c.generation,
            dirty: c.dirty || c.unclean,
          })),
          false,
        );
      return session;
    };
    const engine = await VolumeEngine.open({
      volume,
      epoch: volume.attachment!.epoch,
      connect: opts.legacyMaps ? legacy : remote,
      controlPlane: new DirectControlPlane(meta),
    });
    t.teardown(() => engine.abandon());
    return engine;
  };
  return { nodes, meta, open };
}
