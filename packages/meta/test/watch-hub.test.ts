import t from 'tap';
import {
  DirectMetaStore,
  GiB,
  MAX_COMMAND_BYTES,
  WatchHub,
  type MapEvent,
  type WatchMessage,
} from '../src/index.js';

function event(revision: number): MapEvent {
  return { revision, logIndex: revision, at: 0, command: 'labelNode', changes: [] };
}

t.test('keeps a bounded history and replays from any revision it still has', async (t) => {
  const hub = new WatchHub(0, 3);
  for (let r = 1; r <= 5; r++) hub.publish(event(r));
  t.equal(hub.oldestRevision, 3);
  const got: WatchMessage[] = [];
  const sub = hub.subscribe(4, (m) => got.push(m));
  t.equal(sub.ok, true);
  hub.publish(event(6));
  t.same(
    got.map((m) => (m.type === 'event' ? m.event.revision : m.type)),
    [4, 5, 'synced', 6],
  );
  if (sub.ok) sub.cancel();
  hub.publish(event(7));
  t.equal(got.length, 4, 'a cancelled watcher gets nothing more');
  const old = hub.subscribe(2, () => undefined);
  t.match(old, { ok: false, reason: 'compacted', oldestRevision: 5, currentRevision: 7 });
  t.match(
    hub.subscribe(9, () => undefined),
    { ok: false, reason: 'future' },
  );
  t.match(
    hub.subscribe(8, () => undefined),
    { ok: true },
    'the next revision is fine',
  );
  t.throws(() => hub.publish(event(9)), /assertion/, 'events must come in order');
});

t.test('reset drops every watcher with a message to list again', async (t) => {
  const hub = new WatchHub(10, 5);
  const got: WatchMessage[] = [];
  hub.subscribe(11, (m) => got.push(m));
  hub.reset(40, 'snapshot installed');
  t.same(got.at(-1), { type: 'reset', revision: 40, reason: 'snapshot installed' });
  t.equal(hub.watcherCount, 0);
  t.equal(hub.oldestRevision, 41);
});

t.test('the number of watchers is bounded', async (t) => {
  const hub = new WatchHub(0, 5, 2);
  hub.subscribe(1, () => undefined);
  hub.subscribe(1, () => undefined);
  t.throws(() => hub.subscribe(1, () => undefined), { code: 'UNAVAILABLE' });
});

t.test('DirectMetaStore refuses commands larger than a log entry may be', async (t) => {
  const store = new DirectMetaStore();
  await t.rejects(
    store.propose({
      type: 'setNodeState',
      at: 0,
      nodeId: 'n',
      action: 'cordon',
      reason: 'x'.repeat(MAX_COMMAND_BYTES),
    }),
    { code: 'TOO_LARGE' },
  );
  const r = await store.propose({
    type: 'registerNode',
    at: 0,
    nodeId: 'n',
    address: 'n:1',
    labels: {},
    capacityBytes: GiB,
    usedBytes: 0,
  });
  t.match(r, { ok: true, revision: 1, changed: true });
  t.match(store.status(), { leader: 'meta-1', commitIndex: 1 });
});
