// The engine reports the agent's host heartbeat carries (D22): which engines, in which order,
// with which fields, within meta's bounds.
import t from 'tap';
import {
  MAX_ENGINE_REPORTS,
  RECOVERED_REPORT_MS,
  engineReports,
  type EngineCondition,
  type EngineFailure,
} from '../src/index.js';

const NOW = 1_800_000_000_000;

function failure(extra: Partial<EngineFailure> = {}): EngineFailure {
  return {
    failedAtMs: NOW - 5_000,
    epoch: 3,
    reason: 'volume v: the last in-sync replica failed',
    attempts: 2,
    nextAttemptAtMs: NOW + 4_000,
    attempting: false,
    lastError: 'opening an engine at epoch 5 failed',
    ...extra,
  };
}

t.test('failing engines first (longest failed first), then recent reopenings', async (t) => {
  const volumes: EngineCondition[] = [
    { volumeId: 'serving', failure: undefined, recovered: undefined },
    {
      volumeId: 'reopened',
      failure: undefined,
      recovered: {
        failedAtMs: NOW - 60_000,
        epoch: 1,
        reason: 'r',
        attempts: 4,
        recoveredAtMs: NOW - 10_000,
        recoveredEpoch: 6,
      },
    },
    {
      volumeId: 'long-ago',
      failure: undefined,
      recovered: {
        failedAtMs: NOW - RECOVERED_REPORT_MS - 60_000,
        epoch: 1,
        reason: 'r',
        attempts: 1,
        recoveredAtMs: NOW - RECOVERED_REPORT_MS,
        recoveredEpoch: 2,
      },
    },
    { volumeId: 'failing', failure: failure(), recovered: undefined },
    {
      volumeId: 'trying',
      failure: failure({ failedAtMs: NOW - 9_000, attempting: true, nextAttemptAtMs: undefined }),
      recovered: undefined,
    },
  ];
  t.same(engineReports(volumes, NOW), [
    {
      volumeId: 'trying',
      state: 'recovering',
      epoch: 3,
      reason: 'volume v: the last in-sync replica failed',
      failedAgoMs: 9_000,
      attempts: 2,
      lastError: 'opening an engine at epoch 5 failed',
    },
    {
      volumeId: 'failing',
      state: 'failed',
      epoch: 3,
      reason: 'volume v: the last in-sync replica failed',
      failedAgoMs: 5_000,
      attempts: 2,
      nextAttemptInMs: 4_000,
      lastError: 'opening an engine at epoch 5 failed',
    },
    {
      volumeId: 'reopened',
      state: 'recovered',
      epoch: 1,
      reason: 'r',
      failedAgoMs: 60_000,
      attempts: 4,
      recoveredAgoMs: 10_000,
      recoveredEpoch: 6,
    },
  ]);
});

t.test("within meta's bounds: list length, text length, times", async (t) => {
  const many: EngineCondition[] = Array.from({ length: MAX_ENGINE_REPORTS + 5 }, (_, i) => ({
    volumeId: `v${i}`,
    failure: failure({ failedAtMs: NOW - i, reason: 'x'.repeat(1_000), lastError: '' }),
    recovered: undefined,
  }));
  const reports = engineReports(many, NOW);
  t.equal(reports.length, MAX_ENGINE_REPORTS);
  t.equal(reports[0]!.volumeId, `v${MAX_ENGINE_REPORTS + 4}`, 'the longest failed first');
  t.equal(reports[0]!.reason.length, 256);
  t.match(reports[0]!.reason, /\.\.\.$/);
  t.equal(reports[0]!.lastError, 'unknown', 'never an empty text (meta refuses it)');
  // A clock that stepped back: no negative age; a next attempt already due is due now.
  const [stepped] = engineReports(
    [
      {
        volumeId: 'v',
        failure: failure({ failedAtMs: NOW + 5_000, nextAttemptAtMs: NOW - 1 }),
        recovered: undefined,
      },
    ],
    NOW,
  );
  t.match(stepped, { failedAgoMs: 0, nextAttemptInMs: 0 });
});
