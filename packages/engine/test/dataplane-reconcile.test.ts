// Reconcile over the TCP data plane (real sockets, in-process servers over MemoryReplicaStore):
// a node that reports `unclean` apart from `dirty` lets reconcile copy a dirty chunk to the other
// replicas only (not back onto its source), and prefer a source that is not unclean. A node that
// folds both into `dirty` (as nodes before the field did) still gets a correct, if larger, copy.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { VolumeEngine } from '../src/index.js';
import {
  CHUNK,
  SIZE,
  VOLUME_ID,
  setupDataPlaneCluster,
  type TestNode,
} from './helpers/dataplane-cluster.js';

/** Crash leftovers: chunk 1 unclean on n2 only (its node crashed), chunk 2 dirty on both. */
async function leaveCrashState(
  nodes: TestNode[],
  open: (host: string) => Promise<VolumeEngine>,
): Promise<Buffer> {
  const first = await open('hostA');
  const data = randomBytes(4 * CHUNK);
  await first.writeAt(0, data);
  await first.flush();
  await first.writeAt(2 * CHUNK + 100, data.subarray(0, 500)); // acknowledged, never flushed
  data.copy(data, 2 * CHUNK + 100, 0, 500);
  await first.abandon();
  nodes[1]!.store.volume(VOLUME_ID).unclean.add(1);
  for (const n of nodes) n.installs.length = 0;
  return data;
}

t.test('detailed maps: dirty chunks are copied to the others only', async (t) => {
  const { nodes, open } = await setupDataPlaneCluster(t, { legacyMaps: false });
  const data = await leaveCrashState(nodes, open);
  const second = await open('hostB');
  t.same(nodes[0]!.installs, [], 'nothing is installed back onto the source');
  t.same(nodes[1]!.installs, [1, 2], 'the unclean and the dirty chunk reach n2');
  t.ok((await second.readAt(0, 4 * CHUNK)).equals(data), 'every acknowledged write is there');
  const [a, b] = nodes.map((n) => n.store.volume(VOLUME_ID).peek(0, SIZE));
  t.ok(a!.equals(b!), 'replicas identical');
  t.equal(nodes[1]!.store.volume(VOLUME_ID).unclean.size, 0, 'n2 is clean again');
  await second.close();
});

t.test('maps from older nodes: the same result with more copying', async (t) => {
  const { nodes, open } = await setupDataPlaneCluster(t, { legacyMaps: true });
  const data = await leaveCrashState(nodes, open);
  const second = await open('hostB');
  t.same(nodes[0]!.installs, [2], 'a dirty chunk is also re-installed on its source');
  t.same(nodes[1]!.installs, [1, 2]);
  t.ok((await second.readAt(0, 4 * CHUNK)).equals(data));
  const [a, b] = nodes.map((n) => n.store.volume(VOLUME_ID).peek(0, SIZE));
  t.ok(a!.equals(b!), 'replicas identical');
  await second.close();
});
