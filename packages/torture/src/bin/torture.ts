#!/usr/bin/env node
// npm run torture -- [--minutes 10] [--seed N] [--dir DIR] [--keep] [--faults a,b] [--concurrency 2]
// A bounded, seeded fault-injection run against real processes; prints where the report is and
// exits 1 when a check failed (the report names the seed that replays the schedule).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind } from '../nemesis.js';
import { runTorture } from '../torture.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    faults: { type: 'string' },
    concurrency: { type: 'string', default: '2' },
    'hold-min': { type: 'string', default: '1000' },
    'hold-max': { type: 'string', default: '8000' },
    'replica-timeout': { type: 'string', default: '3s' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    `usage: npm run torture -- [--minutes N] [--seed N] [--dir DIR] [--keep] [--faults ${FAULT_KINDS.join(',')}] [--concurrency N] [--replica-timeout 3s]\n`,
  );
  process.exit(0);
}
if (process.getuid?.() !== 0) {
  process.stderr.write('the torture run needs root (network namespaces, mounts, loop devices)\n');
  process.exit(2);
}
const minutes = Number(values.minutes);
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const faults = (values.faults?.split(',') ?? [...FAULT_KINDS]) as FaultKind[];
const unknown = faults.filter((f) => !FAULT_KINDS.includes(f));
if (!(minutes > 0) || !Number.isInteger(seed) || unknown.length > 0) {
  process.stderr.write(
    `bad arguments${unknown.length > 0 ? `: unknown faults ${unknown.join(', ')}` : ''}; see --help\n`,
  );
  process.exit(2);
}
const dir = values.dir ?? join(tmpdir(), `ballast-torture-${seed}-${Date.now()}`);
const report = await runTorture({
  minutes,
  seed,
  dir,
  keep: values.keep === true,
  faults,
  concurrency: Number(values.concurrency),
  holdMs: [Number(values['hold-min']), Number(values['hold-max'])],
  gapMs: [0, 2000],
  replicaTimeout: values['replica-timeout']!,
});
process.stdout.write(`\n${report.passed ? 'PASSED' : 'FAILED'}: ${join(dir, 'report.md')}\n`);
for (const c of report.checks) {
  process.stdout.write(`  ${c.passed ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail.slice(0, 300)}\n`);
}
process.exit(report.passed ? 0 : 1);
