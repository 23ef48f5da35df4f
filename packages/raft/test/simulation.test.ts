// Deterministic whole-cluster simulation over many seeds (see src/sim/simulation.ts for the
// faults injected and the properties checked). Environment:
//   RAFT_SIM_SEEDS=100000   how many seeds to run (default 2000)
//   RAFT_SIM_FIRST_SEED=n   start there (default 1)
//   RAFT_SIM_SEED=n         run exactly one seed, printing its full trace on failure
//   RAFT_SIM_TRACE=n        events kept for the failure report (default 200)
import t from 'tap';
import { runSimulation, type SimResult, type SimStats } from '../src/sim/index.js';

const single = process.env['RAFT_SIM_SEED'];
const count = single !== undefined ? 1 : Number(process.env['RAFT_SIM_SEEDS'] ?? 2000);
const first =
  single !== undefined ? Number(single) : Number(process.env['RAFT_SIM_FIRST_SEED'] ?? 1);
const traceCapacity = Number(process.env['RAFT_SIM_TRACE'] ?? (single !== undefined ? 2000 : 200));

function report(r: SimResult): string {
  return [
    `seed ${r.seed} failed: ${r.failure}`,
    `parameters: ${r.params}`,
    `replay: RAFT_SIM_SEED=${r.seed} npx tap dist/test/simulation.test.js   (in packages/raft)`,
    `last ${r.trace.length} events:`,
    ...r.trace.map((line) => `  ${line}`),
  ].join('\n');
}

t.test(`simulation: ${count} seed(s) from ${first}`, async (t) => {
  const total: Partial<Record<keyof SimStats, number>> = {};
  const features = {
    membership: 0,
    transfers: 0,
    snapshots: 0,
    reads: 0,
    crashes: 0,
    fiveVoters: 0,
  };
  let failures = 0;
  for (let seed = first; seed < first + count; seed++) {
    const r = runSimulation({ seed, traceCapacity });
    for (const [k, v] of Object.entries(r.stats) as [keyof SimStats, number][]) {
      total[k] = (total[k] ?? 0) + v;
    }
    if (r.params.includes('"membershipChanges":true') && r.stats.confChangesCommitted > 5)
      features.membership++;
    if (r.stats.transfersDone > 0) features.transfers++;
    if (r.stats.snapshotsInstalled > 0) features.snapshots++;
    if (r.stats.readsServed > 0) features.reads++;
    if (r.stats.crashes > 0) features.crashes++;
    if (r.params.includes('"voters":5')) features.fiveVoters++;
    if (!r.ok) {
      failures++;
      // The full report goes to stderr line by line; the assertion carries the replay command.
      console.error(report(r));
      t.fail(
        `seed ${r.seed}: ${r.failure} -- replay: RAFT_SIM_SEED=${r.seed} npx tap dist/test/simulation.test.js`,
      );
      if (failures >= 3) break; // enough to act on; keep the output readable
    }
  }
  t.equal(failures, 0, 'every seed kept every property');
  t.comment(`totals: ${JSON.stringify(total)}`);
  t.comment(`seeds exercising: ${JSON.stringify(features)}`);
  if (count >= 200) {
    // The runs must actually exercise what they claim to check.
    t.ok(features.membership > 0, 'some seeds changed membership');
    t.ok(features.transfers > 0, 'some seeds transferred leadership');
    t.ok(features.snapshots > 0, 'some seeds caught followers up by snapshot');
    t.ok(features.reads > 0, 'some seeds served linearizable reads');
    t.ok(features.crashes > 0, 'some seeds crashed members');
    t.ok(
      features.fiveVoters > 0 && features.fiveVoters < count,
      'both 3- and 5-member clusters ran',
    );
    t.ok((total.acked ?? 0) > count, 'proposals were acknowledged');
  }
});

t.test('simulation: a seed replays exactly', async (t) => {
  for (const seed of [first, first + 1, 4242]) {
    const a = runSimulation({ seed, traceCapacity: 500 });
    const b = runSimulation({ seed, traceCapacity: 500 });
    t.same(b.stats, a.stats, `seed ${seed}: same statistics`);
    t.same(b.trace, a.trace, `seed ${seed}: same events`);
    t.ok(a.trace.length > 100, 'the trace records events');
  }
  const other = runSimulation({ seed: first + 2, traceCapacity: 500 });
  t.not(
    JSON.stringify(other.trace),
    JSON.stringify(runSimulation({ seed: first, traceCapacity: 500 }).trace),
    'another seed differs',
  );
});
