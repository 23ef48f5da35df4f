// The replica session contract over the chunk store in process: LocalSession on a
// ChunkStoreReplicaStore (real files, real index, fences persisted), as the agent's embedded
// node serves its own engine.
import t from 'tap';
import { LocalSession, sessionContract } from '@ballast/session';
import { ChunkStoreReplicaStore } from '../src/index.js';
import { openStore, tempDir } from './helpers.js';

const chunkStore = await openStore(t, { dir: tempDir(t) });
const store = new ChunkStoreReplicaStore(chunkStore);
const PEER = { clientId: 'engine', remoteAddress: 'in-process' };

sessionContract((name, fn) => void t.test(name, fn), 'chunk store, in process', {
  nodeId: 'c1',
  createVolume: async (volumeId, sizeBytes, chunkSizeBytes) => {
    await chunkStore.createReplica(volumeId, { sizeBytes, chunkSizeBytes });
  },
  open: (spec) => LocalSession.open('c1', store, spec, PEER),
  // As a node following the cluster map does (persisted, then a clean cut).
  acceptFence: (volumeId, fence) => store.acceptFence(volumeId, fence),
  peek: async (volumeId, offsetBytes, lengthBytes) =>
    chunkStore.replica(volumeId).read(offsetBytes, lengthBytes),
});
