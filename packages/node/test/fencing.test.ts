// Epoch fencing against a real node process, across a SIGKILL and restart (DESIGN invariant 3).
import t from 'tap';
import { StatusCode, isDataPlaneError } from '@ballast/dataplane';
import { connect, metricValue, rejection, startNodeProcess } from './helpers.js';

const VOLUME = 'vol1';
const BLOCK = 4096;

t.test('an older epoch is refused, also after the node restarts', async (t) => {
  const node = await startNodeProcess(t, {
    replicas: [{ volumeId: VOLUME, sizeBytes: 16 * 1024 * 1024, chunkSizeBytes: 1024 * 1024 }],
  });
  const oldHost = await connect(t, node, { clientId: 'agent-old' });
  const s5 = await oldHost.openSession({ volumeId: VOLUME, epoch: 5 });
  t.equal(s5.highestEpoch, 5);
  await s5.write(0, Buffer.alloc(BLOCK, 5));
  await s5.flush();
  t.same(await s5.read(0, BLOCK), Buffer.alloc(BLOCK, 5), 'epoch 5 works');

  const newHost = await connect(t, node, { clientId: 'agent-new' });
  const s6 = await newHost.openSession({ volumeId: VOLUME, epoch: 6 });
  t.equal(s6.highestEpoch, 6);
  const refused = await rejection(s5.write(0, Buffer.alloc(BLOCK, 55)));
  t.ok(isDataPlaneError(refused, StatusCode.FENCED), 'the old session is fenced on its next write');
  const refusedRead = await rejection(s5.read(0, BLOCK));
  t.ok(isDataPlaneError(refusedRead, StatusCode.FENCED), 'and on reads');
  await s6.write(BLOCK, Buffer.alloc(BLOCK, 6));
  await s6.flush();
  t.ok(
    (await metricValue(node.endpoints.metrics!, 'ballast_node_fenced_requests_total', {
      volume: VOLUME,
    })) >= 2,
    'fenced requests are counted per volume',
  );

  // The epoch was persisted before epoch 6 was granted: a SIGKILL does not bring epoch 5 back.
  await node.crashAndRestart();
  const oldAgain = await connect(t, node, { clientId: 'agent-old' });
  const reopen = await rejection(oldAgain.openSession({ volumeId: VOLUME, epoch: 5 }));
  t.ok(isDataPlaneError(reopen, StatusCode.FENCED), 'epoch 5 is still refused after the restart');
  const newAgain = await connect(t, node, { clientId: 'agent-new' });
  const s6b = await newAgain.openSession({ volumeId: VOLUME, epoch: 6 });
  t.equal(s6b.highestEpoch, 6);
  t.same(await s6b.read(0, BLOCK), Buffer.alloc(BLOCK, 5), 'the fenced write changed nothing');
  t.same(await s6b.read(BLOCK, BLOCK), Buffer.alloc(BLOCK, 6), "the new writer's data is there");

  // A third attach fences epoch 6 in turn, on a live session.
  const third = await connect(t, node, { clientId: 'agent-third' });
  await third.openSession({ volumeId: VOLUME, epoch: 7 });
  const fenced6 = await rejection(s6b.flush());
  t.ok(isDataPlaneError(fenced6, StatusCode.FENCED), 'epoch 6 is fenced once 7 is accepted');
});
