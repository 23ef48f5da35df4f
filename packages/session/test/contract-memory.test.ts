// The session contract over memory, in process: LocalSession on a MemoryReplicaStore.
import t from 'tap';
import { LocalSession, MemoryReplicaStore, sessionContract } from '../src/index.js';

// Every third mutation waits a little, so the asynchronous path is exercised too.
let mutations = 0;
const store = new MemoryReplicaStore({
  mutationDelayMs: () => (++mutations % 3 === 0 ? 1 : undefined),
});
const PEER = { clientId: 'engine', remoteAddress: 'in-process' };

sessionContract((name, fn) => void t.test(name, fn), 'memory, in process', {
  nodeId: 'm1',
  createVolume: async (volumeId, sizeBytes, chunkSizeBytes) => {
    store.createVolume(volumeId, sizeBytes, chunkSizeBytes);
  },
  open: (spec) => LocalSession.open('m1', store, spec, PEER),
  acceptFence: async (volumeId, fence) => {
    // A node following the map persists the fence it sees: a session open under it does that.
    await store.openSession({ volumeId, ...fence, sizeBytes: 0, chunkSizeBytes: 0 });
  },
  peek: async (volumeId, offsetBytes, lengthBytes) =>
    store.volume(volumeId).peek(offsetBytes, lengthBytes),
});
