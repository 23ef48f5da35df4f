// MetaControlPlane (the engine's control plane over REST) against meta's real REST API (fastify
// on a loopback port, DirectMetaStore behind it): commits, refusals with their codes, retries after a lost connection, the overall
// bound; and DirectControlPlane's refusals.
import t from 'tap';
import { BallastError } from '@ballast/common';
import { waitFor } from '@ballast/testkit';
import { DirectControlPlane, type DirectMetaStore } from '@ballast/meta';
import { MetaControlPlane } from '../src/control-plane.js';
import { startMeta, startSilent, type Teardown } from './helpers.js';

const TOKEN = 'control-plane-test-token';

async function setup(t: Teardown) {
  const { meta, url, propose } = await startMeta(t, TOKEN);
  for (const n of ['n1', 'n2', 'n3']) {
    await propose({
      type: 'registerNode',
      at: Date.now(),
      nodeId: n,
      address: `10.0.0.${n.slice(1)}:7100`,
      labels: { host: n },
      capacityBytes: 2 ** 40,
      usedBytes: 0,
    });
  }
  await propose({
    type: 'createVolume',
    at: Date.now(),
    volumeId: 'v1',
    name: 'data',
    sizeBytes: 2 ** 30,
    chunkSizeBytes: 4 * 2 ** 20,
    desiredReplicas: 3,
    constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
    fs: 'ext4',
    replicaNodeIds: ['n1', 'n2', 'n3'],
  });
  await propose({ type: 'attachVolume', at: Date.now(), volumeId: 'v1', host: 'h1', force: false });
  const epoch = meta.map.getVolume('v1')!.attachment!.epoch;
  current = meta;
  return { meta, url, epoch, propose };
}

/** The meta of the running test: requests carry the map's incarnation of the replica. */
let current: DirectMetaStore | undefined;

const request = (epoch: number, nodeId: string) => ({
  volumeId: 'v1',
  volumeName: 'data',
  nodeId,
  epoch,
  incarnation:
    current?.map.getVolume('v1')?.replicas.find((r) => r.nodeId === nodeId)?.incarnation ?? 0,
  reason: 'write failed: test',
});

t.test('REST: commit, repeat, last replica, stale epoch, bad token', async (t) => {
  const { meta, url, epoch } = await setup(t);
  const cp = new MetaControlPlane({ apiUrls: [url], token: TOKEN, timeoutMs: 5000 });
  await cp.markOutOfSync(request(epoch, 'n2'));
  t.same(
    meta.map.getVolume('v1')!.replicas.map((r) => r.nodeId),
    ['n1', 'n3'],
  );
  await cp.markOutOfSync(request(epoch, 'n2')); // a retry after a lost answer is a no-op
  await cp.markOutOfSync(request(epoch, 'n3'));
  await t.rejects(
    cp.markOutOfSync(request(epoch, 'n1')),
    { code: 'CONFLICT' },
    'the last in-sync replica stays',
  );
  await t.rejects(cp.markOutOfSync(request(epoch - 1, 'n1')), { code: 'FENCED' });
  const bad = new MetaControlPlane({ apiUrls: [url], token: 'wrong', timeoutMs: 5000 });
  await t.rejects(bad.markOutOfSync(request(epoch, 'n1')), { code: 'UNAUTHORIZED' });
});

t.test('REST: promote a rebuilt replica; repeat is a no-op; a stale epoch is fenced', async (t) => {
  const { meta, url, epoch, propose } = await setup(t);
  const cp = new MetaControlPlane({ apiUrls: [url], token: TOKEN, timeoutMs: 5000 });
  await cp.markOutOfSync(request(epoch, 'n2'));
  await propose({ type: 'addReplica', at: Date.now(), volumeId: 'v1', nodeId: 'n2' });
  const role = () => meta.map.getVolume('v1')!.replicas.find((r) => r.nodeId === 'n2')?.role;
  const inc = () =>
    meta.map.getVolume('v1')!.replicas.find((r) => r.nodeId === 'n2')?.incarnation ?? 0;
  t.equal(role(), 'rebuilding');
  await t.rejects(
    cp.promoteReplica({
      volumeId: 'v1',
      volumeName: 'data',
      nodeId: 'n2',
      epoch: epoch - 1,
      incarnation: inc(),
    }),
    { code: 'FENCED' },
    'a rebuild under an older epoch is not promoted',
  );
  t.equal(role(), 'rebuilding');
  await cp.promoteReplica({
    volumeId: 'v1',
    volumeName: 'data',
    nodeId: 'n2',
    epoch,
    incarnation: inc(),
  });
  t.equal(role(), 'in-sync');
  await cp.promoteReplica({
    volumeId: 'v1',
    volumeName: 'data',
    nodeId: 'n2',
    epoch,
    incarnation: inc(),
  });
  t.equal(role(), 'in-sync', 'a retry after a lost answer is a no-op');
});

t.test('REST: retries on the next member after a lost connection, bounded overall', async (t) => {
  const { meta, url, epoch } = await setup(t);
  // The first member is down (nothing listens there), the second answers.
  const cp = new MetaControlPlane({
    apiUrls: ['http://127.0.0.1:1', url],
    token: TOKEN,
    timeoutMs: 10_000,
  });
  await cp.markOutOfSync(request(epoch, 'n3'));
  t.same(
    meta.map.getVolume('v1')!.staleReplicas.map((s) => s.nodeId),
    ['n3'],
  );
  const down = new MetaControlPlane({
    apiUrls: ['http://127.0.0.1:1'],
    token: TOKEN,
    timeoutMs: 300,
  });
  const err = await down.markOutOfSync(request(epoch, 'n2')).catch((e: unknown) => e);
  t.type(err, BallastError);
  t.equal((err as BallastError).code, 'TIMEOUT', 'gives up with TIMEOUT when no member answers');
});

t.test('Direct: the same refusals from the map', async (t) => {
  const { meta, epoch } = await setup(t);
  const cp = new DirectControlPlane(meta);
  await cp.markOutOfSync(request(epoch, 'n1'));
  await t.rejects(cp.markOutOfSync(request(epoch + 5, 'n2')), { code: 'INVALID_ARGUMENT' });
  await t.rejects(cp.markOutOfSync({ ...request(epoch, 'n9') }), { code: 'NOT_FOUND' });
  await cp.markOutOfSync(request(epoch, 'n2'));
  await t.rejects(cp.markOutOfSync(request(epoch, 'n3')), { code: 'CONFLICT' });
});

t.test(
  'REST: a member that accepts but never answers is hedged around, not waited out',
  async (t) => {
    const { meta, url, epoch } = await setup(t);
    const silent = await startSilent(t);
    const cp = new MetaControlPlane({
      apiUrls: [silent.url, url],
      token: TOKEN,
      // Longer than the test may run: only hedging can make the call finish.
      attemptTimeoutMs: 600_000,
      timeoutMs: 600_000,
    });
    await cp.markOutOfSync(request(epoch, 'n2'));
    t.same(
      meta.map.getVolume('v1')!.staleReplicas.map((s) => s.nodeId),
      ['n2'],
      'committed through the member that answers',
    );
    t.equal(silent.requests(), 1, 'the silent member was asked once');
    await waitFor('the unanswered request to be abandoned', () => silent.held() === 0, {
      timeoutMs: 30_000,
    });
    // The member that answered is asked first next time: nothing reaches the silent one.
    await cp.markOutOfSync(request(epoch, 'n3'));
    t.equal(silent.requests(), 1, 'the next call goes straight to the member that answers');
  },
);
