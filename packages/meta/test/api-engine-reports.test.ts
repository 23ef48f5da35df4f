// Engine reports (D22) in host heartbeats: validated whole before anything is kept, kept in the
// leader's memory per host, and told by the volume's explanation (what happened, what the agent
// does next and when, what the operator can do).
import t from 'tap';
import fc from 'fast-check';
import {
  HostLiveness,
  MAX_ENGINE_REPORTS,
  MAX_ENGINE_REPORT_TEXT,
  type VolumeExplanation,
} from '../src/index.js';
import { addNodes, isProblem, startApi, type ApiHarness } from './helpers/api-harness.js';
import { fcParams } from './helpers/fc-params.js';

async function seeded(t: Parameters<typeof startApi>[0]): Promise<{
  api: ApiHarness;
  hosts: HostLiveness;
  volumeId: string;
}> {
  const hosts = new HostLiveness();
  const api = await startApi(t, { hostLiveness: hosts });
  await addNodes(api, 3);
  const created = await api.call('POST', '/v1/volumes', { name: 'db', size: '1GiB', replicas: 1 });
  if (created.statusCode !== 201) throw new Error(created.body);
  const attached = await api.call('POST', '/v1/volumes/db/attach', { host: 'h1' });
  if (attached.statusCode !== 200) throw new Error(attached.body);
  return { api, hosts, volumeId: (created.json() as { id: string }).id };
}

const failed = (volumeId: string, extra: Record<string, unknown> = {}) => ({
  volumeId,
  state: 'failed',
  epoch: 1,
  reason: 'volume db: the last in-sync replica (n1) failed: connection refused',
  failedAgoMs: 7_000,
  attempts: 2,
  nextAttemptInMs: 4_000,
  lastError: 'waiting for a node holding an in-sync replica (n1) to be reachable',
  ...extra,
});

t.test(
  'a failed engine: the explanation says what happened, what comes next and when',
  async (t) => {
    const { api, volumeId } = await seeded(t);
    const now = api.clock.nowMs;
    const beat = await api.call('POST', '/v1/hosts/h1/heartbeat', {
      sequence: 1,
      engines: [failed(volumeId)],
    });
    t.equal(beat.statusCode, 200, beat.body);

    const e = (await api.call('GET', '/v1/volumes/db/explanation')).json() as VolumeExplanation;
    t.equal(e.state, 'failed');
    t.match(
      e.stateReason,
      /^the engine on host h1 failed at epoch 1: volume db: the last in-sync replica \(n1\) failed: connection refused; I\/O gets EIO until the agent reopens it at a new epoch \(2 attempts so far\); the map has the volume healthy: /,
    );
    t.same(e.engine, {
      host: 'h1',
      state: 'failed',
      epoch: 1,
      reason: 'volume db: the last in-sync replica (n1) failed: connection refused',
      failedAt: now - 7_000,
      attempts: 2,
      nextAttemptAt: now + 4_000,
      lastError: 'waiting for a node holding an in-sync replica (n1) to be reachable',
      recoveredAt: null,
      recoveredEpoch: null,
      reportedAt: now,
    });
    t.same(e.events, [
      {
        at: now - 7_000,
        text: 'the engine on host h1 failed at epoch 1: volume db: the last in-sync replica (n1) failed: connection refused',
      },
    ]);
    t.match(e.next[0], {
      loop: 'engine',
      text: /^the agent on h1 reopens the engine at a new epoch, retrying with backoff .*: 2 attempts so far; the last attempt: waiting for a node holding an in-sync replica \(n1\) to be reachable; attempt 3 is due$/,
      until: now + 4_000,
    });
    const holder = (await api.call('GET', '/v1/volumes/db')).json().replicas[0].nodeId as string;
    t.match(e.actions, [
      new RegExp(`holding its in-sync replica .*\`ballast node inspect ${holder}\``),
      /release it on h1: .*`ballast volume detach db --host h1`/,
    ]);

    // The record and the list carry it in short.
    const short = { host: 'h1', state: 'failed', since: now - 7_000 };
    t.same((await api.call('GET', '/v1/volumes/db')).json().engine, short);
    t.same((await api.call('GET', '/v1/volumes')).json().items[0].engine, short);

    // A reopen attempt running now.
    await api.call('POST', '/v1/hosts/h1/heartbeat', {
      sequence: 2,
      engines: [
        {
          ...failed(volumeId, { state: 'recovering', attempts: 3 }),
          nextAttemptInMs: undefined,
        },
      ],
    });
    const r = (await api.call('GET', '/v1/volumes/db/explanation')).json() as VolumeExplanation;
    t.equal(r.state, 'recovering');
    t.match(r.next[0], {
      loop: 'engine',
      text: /is reopening the engine .*\(attempt 3\)/,
      until: null,
    });

    // The agent goes silent: the report is its last word, and the explanation says so.
    api.clock.nowMs += 45_000;
    const s = (await api.call('GET', '/v1/volumes/db/explanation')).json() as VolumeExplanation;
    t.match(s.stateReason, /as the agent reported 45\.0s ago; it has been silent since/);
    t.ok(s.actions.includes('check the agent on h1: `ballast host inspect h1`'));
  },
);

t.test('a recovered engine is a past event; an empty list clears the report', async (t) => {
  const { api, volumeId } = await seeded(t);
  const now = api.clock.nowMs;
  await api.call('POST', '/v1/hosts/h1/heartbeat', {
    sequence: 1,
    engines: [
      {
        volumeId,
        state: 'recovered',
        epoch: 1,
        reason: 'volume db: the last in-sync replica (n1) failed',
        failedAgoMs: 60_000,
        attempts: 5,
        recoveredAgoMs: 10_000,
        recoveredEpoch: 4,
      },
    ],
  });
  const e = (await api.call('GET', '/v1/volumes/db/explanation')).json() as VolumeExplanation;
  t.equal(e.state, 'healthy', 'a reopened engine does not change the state');
  t.match(e.events, [
    {
      at: now - 60_000,
      text: 'the engine on host h1 failed at epoch 1: volume db: the last in-sync replica (n1) failed',
    },
    { at: now - 10_000, text: /^the agent on h1 reopened the engine at epoch 4 after 5 attempts/ },
  ]);
  t.same(e.next, []);
  t.same((await api.call('GET', '/v1/volumes/db')).json().engine, {
    host: 'h1',
    state: 'recovered',
    since: now - 10_000,
  });
  t.match(e.engine, {
    state: 'recovered',
    epoch: 1,
    recoveredAt: now - 10_000,
    recoveredEpoch: 4,
    nextAttemptAt: null,
  });

  const host = (await api.call('GET', '/v1/hosts/h1')).json();
  t.match(host.engines, [
    { volume: 'db', state: 'recovered', epoch: 1, recoveredEpoch: 4, attempts: 5 },
  ]);
  t.notOk('volumeId' in host.engines[0], 'the host view names the volume, not its id');
  t.match((await api.call('GET', '/v1/hosts')).json().items, [{ id: 'h1', engines: [{}] }]);

  await api.call('POST', '/v1/hosts/h1/heartbeat', { sequence: 2 });
  t.notOk('engines' in (await api.call('GET', '/v1/hosts/h1')).json(), 'none after an empty list');
  const cleared = (await api.call('GET', '/v1/volumes/db/explanation')).json();
  t.notOk('engine' in cleared, 'no report, no engine');
  t.notOk('engine' in (await api.call('GET', '/v1/volumes/db')).json());
  t.same(cleared.events, []);

  // A report of another host (not the holder) says nothing of the volume.
  await api.call('POST', '/v1/hosts/h2/heartbeat', { engines: [failed(volumeId)] });
  t.equal((await api.call('GET', '/v1/volumes/db/explanation')).json().state, 'healthy');
});

t.test('bad engine reports get problem+json 400 and change nothing', async (t) => {
  const { api, hosts, volumeId } = await seeded(t);
  await api.call('POST', '/v1/hosts/h1/heartbeat', { sequence: 5, engines: [failed(volumeId)] });
  const seenAt = hosts.lastSeenMs('h1');
  const kept = hosts.engineReport('h1', volumeId);
  t.ok(kept);
  api.clock.nowMs += 1_000;
  const bad: Array<[string, unknown]> = [
    ['not a list', 'x'],
    ['too many', Array.from({ length: MAX_ENGINE_REPORTS + 1 }, (_, i) => failed(`v${i}`))],
    ['unknown state', [failed(volumeId, { state: 'sad' })]],
    ['reason too long', [failed(volumeId, { reason: 'x'.repeat(MAX_ENGINE_REPORT_TEXT + 1) })]],
    ['empty reason', [failed(volumeId, { reason: '' })]],
    ['negative age', [failed(volumeId, { failedAgoMs: -1 })]],
    ['next attempt too far', [failed(volumeId, { nextAttemptInMs: 10 * 3_600_000 })]],
    ['extra field', [failed(volumeId, { extra: 1 })]],
    ['bad volume id', [failed('-x')]],
    ['twice', [failed(volumeId), failed(volumeId)]],
    ['recovered without recoveredAgoMs', [failed(volumeId, { state: 'recovered' })]],
    [
      'recovered at the failed epoch',
      [
        failed(volumeId, {
          state: 'recovered',
          nextAttemptInMs: undefined,
          recoveredAgoMs: 1,
          recoveredEpoch: 1,
        }),
      ],
    ],
    ['recoveredAgoMs while failed', [failed(volumeId, { recoveredAgoMs: 1 })]],
    [
      'next attempt while recovering',
      [failed(volumeId, { state: 'recovering', nextAttemptInMs: 5 })],
    ],
    [
      'recovered before failing',
      [
        failed(volumeId, {
          state: 'recovered',
          nextAttemptInMs: undefined,
          failedAgoMs: 5,
          recoveredAgoMs: 10,
          recoveredEpoch: 2,
        }),
      ],
    ],
  ];
  for (const [what, engines] of bad) {
    const res = await api.call('POST', '/v1/hosts/h1/heartbeat', { sequence: 6, engines });
    t.equal(isProblem(res, 400, 'INVALID_ARGUMENT'), null, what);
    t.equal(hosts.lastSeenMs('h1'), seenAt, `${what}: the heartbeat is not recorded`);
    t.same(hosts.engineReport('h1', volumeId), kept, `${what}: the report is kept`);
  }
  // A reordered heartbeat does not replace the reports either.
  await api.call('POST', '/v1/hosts/h1/heartbeat', { sequence: 4, engines: [] });
  t.same(hosts.engineReport('h1', volumeId), kept, 'a reordered heartbeat changes nothing');
  // A leader change forgets them (the agent's next heartbeat tells the new leader).
  hosts.clear();
  t.equal(hosts.engineReport('h1', volumeId), undefined);
});

t.test('fuzz: one field of an engine report replaced by random JSON', async (t) => {
  const { api, hosts, volumeId } = await seeded(t);
  const real = failed(volumeId);
  const fields = [...Object.keys(real), 'recoveredAgoMs', 'recoveredEpoch', 'other'];
  let sequence = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...fields),
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('failed', 'recovering', 'recovered'),
      async (field, value, state) => {
        const before = JSON.stringify([hosts.lastSeenMs('h1'), hosts.engineReport('h1', volumeId)]);
        api.clock.nowMs += 1;
        const res = await api.call('POST', '/v1/hosts/h1/heartbeat', {
          sequence: ++sequence,
          engines: [{ ...real, state, [field]: value }],
        });
        if (res.statusCode >= 500) throw new Error(`${res.statusCode}: ${res.body}`);
        if (res.statusCode >= 400) {
          if (isProblem(res, 400, 'INVALID_ARGUMENT') !== null) throw new Error(res.body);
          const after = JSON.stringify([
            hosts.lastSeenMs('h1'),
            hosts.engineReport('h1', volumeId),
          ]);
          if (after !== before)
            throw new Error(`a refused heartbeat changed the table: ${res.body}`);
        } else {
          // Whatever was accepted explains without breaking the response schema.
          const e = await api.call('GET', '/v1/volumes/db/explanation');
          if (e.statusCode !== 200) throw new Error(`explanation: ${e.statusCode} ${e.body}`);
        }
      },
    ),
    fcParams(200),
  );
  t.pass('no 5xx; refusals are problem+json 400 and change nothing');
});
