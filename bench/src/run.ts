import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration, parseSize } from '@ballast/common';
import { STANDARD_JOBS } from './fio.js';
import { measure, precondition, type Row } from './measure.js';
import { runBackupAcceptance, runBackupSuite } from './backup.js';
import { runSnapshotSpace, runSnapshotSuite } from './snapshots.js';
import {
  BallastAgentTarget,
  BallastNbdFileTarget,
  BallastVolumeTarget,
  FileTarget,
  NbdkitTarget,
  type Target,
} from './targets.js';

const repoRoot = new URL('../..', import.meta.url).pathname;

const USAGE = `usage: npm run bench -- <suite> [options]

suites:
  baseline   fio on a plain file (libaio, direct) and nbdkit serving that file over a unix socket
  nbd        nbdkit and Ballast's NBD server (packages/nbd), each serving a file: the NBD layer alone
  volume     nbdkit and Ballast volumes with 1, 2 and 3 replicas (engine + data plane + storage
             node processes on this machine); --replicas 1,3 picks a subset
  agent      nbdkit and Ballast volumes through the product: \`ballast dev up\` (1 meta, storage
             nodes, ballastd agent), volume create + attach, fio on the agent's NBD socket;
             each replica count twice: all nodes separate (ballast-agent-rN) and one node inside
             the agent (--embed-node, ballast-agent-rN-embedded)
  snapshots  issue 16: Ballast volumes with 0, 100 and 1,000 snapshots (4k random write and read
             QD32, ratio to 0 snapshots), write pauses while a snapshot is taken every 500 ms
             under 4k random writes QD32, then the snapshot-space table; --replicas (default 1)
  snapshot-space  space kept for N snapshots of a replica with known write patterns against
             the bytes changed (the chunk store directly, no fio)
  backup     issue 17: backup and restore rates of @ballast/backup to a radosgw started for
             the run and to a directory, against the plain SDK (multipart upload, GET) and a
             plain file with the same bytes (--size, default here 512MiB; --rounds)
  backup-acceptance  issue 17's acceptance numbers at full size (--size, default here 4GiB) on
             a directory: full backup, 1% of 4 KiB blocks changed at random then an
             incremental (bytes uploaded), a clone's backup, a restore checked by SHA-256

options:
  --runtime <dur>   measured time per job (default 10s; plus 2s ramp)
  --size <size>     file size per target (default 1GiB)
  --dir <dir>       scratch directory (default: a temp dir on the same disk as /tmp)
  --jobs <names>    comma-separated subset of: ${STANDARD_JOBS.map((j) => j.name).join(', ')}
  --rounds <n>      repeat the whole job list n times, interleaved (default 1)
  --node-options <s> Node options for Ballast's server processes and storage nodes, e.g.
                    "--max-semi-space-size=4" (default none)
  --counts <list>   (snapshots) snapshot counts per volume (default 0,100,1000)
  --every-ms <ms>   (snapshots) interval of the periodic snapshots of the pause job (default 500)
  --pause-chunk-sizes <list> (snapshots) chunk sizes of the pause job's volumes (default
                    4MiB,64KiB; a non-default size also gets a volume without snapshots;
                    "none": no pause job)
  --no-space        (snapshots) skip the space table
  --in-process-node (volume) also run each volume with its first storage node inside the
                    engine's process, reached as the agent reaches its embedded node (targets
                    ballast-volume-rN-inproc)
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runtime: { type: 'string', default: '10s' },
      size: { type: 'string', default: '1GiB' },
      dir: { type: 'string' },
      jobs: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      replicas: { type: 'string' },
      'node-options': { type: 'string', default: '' },
      'in-process-node': { type: 'boolean', default: false },
      counts: { type: 'string', default: '0,100,1000' },
      'every-ms': { type: 'string', default: '500' },
      'pause-chunk-sizes': { type: 'string', default: '4MiB,64KiB' },
      'no-space': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const suite = positionals[0];
  if (values.help || !suite) {
    process.stdout.write(USAGE);
    process.exit(suite ? 0 : 2);
  }
  const runtimeMs = parseDuration(values.runtime!, '--runtime');
  const sizeBytes = parseSize(values.size!, '--size');
  const rounds = Number(values.rounds);
  const nodeOptions = values['node-options']!.split(' ').filter((a) => a !== '');
  const jobs = values.jobs
    ? values.jobs.split(',').map((n) => {
        const j = STANDARD_JOBS.find((x) => x.name === n.trim());
        if (!j)
          throw new Error(
            `unknown job ${n}; known: ${STANDARD_JOBS.map((x) => x.name).join(', ')}`,
          );
        return j;
      })
    : STANDARD_JOBS;
  const scratch = values.dir ?? mkdtempSync(join(tmpdir(), 'ballast-bench-'));
  mkdirSync(scratch, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(repoRoot, 'bench', 'results', `${suite}-${stamp}`);
  mkdirSync(resultsDir, { recursive: true });

  if (suite === 'backup-acceptance') {
    try {
      const md = await runBackupAcceptance({
        sizeBytes: values.size === '1GiB' ? 4 * 1024 * 1024 * 1024 : sizeBytes,
        scratch,
        resultsDir,
      });
      writeFileSync(join(resultsDir, 'summary.md'), md);
      process.stdout.write(`\nresults: ${resultsDir}\n`);
    } finally {
      if (!values.dir) rmSync(scratch, { recursive: true, force: true });
    }
    return;
  }

  if (suite === 'backup') {
    try {
      const md = await runBackupSuite({
        sizeBytes: values.size === '1GiB' ? 512 * 1024 * 1024 : sizeBytes,
        scratch,
        resultsDir,
        rounds,
      });
      writeFileSync(join(resultsDir, 'summary.md'), md);
      process.stdout.write(`\nresults: ${resultsDir}\n`);
    } finally {
      if (!values.dir) rmSync(scratch, { recursive: true, force: true });
    }
    return;
  }

  if (suite === 'snapshots' || suite === 'snapshot-space') {
    const parts: string[] = [];
    try {
      if (suite === 'snapshots') {
        parts.push(
          await runSnapshotSuite({
            runtimeMs,
            sizeBytes,
            rounds,
            replicas: (values.replicas ?? '1').split(',').map(Number),
            counts: values.counts!.split(',').map(Number),
            everyMs: Number(values['every-ms']),
            pauseChunkSizes:
              values['pause-chunk-sizes'] === 'none'
                ? []
                : values['pause-chunk-sizes']!.split(',').map((x) =>
                    parseSize(x.trim(), '--pause-chunk-sizes'),
                  ),
            nodeOptions,
            scratch,
            resultsDir,
            serveJs: join(repoRoot, 'packages', 'engine', 'dist', 'bench', 'serve.js'),
          }),
        );
      }
      if (suite === 'snapshot-space' || !values['no-space']) {
        parts.push(await runSnapshotSpace({ dir: join(scratch, 'space'), resultsDir }));
      }
    } finally {
      if (!values.dir) rmSync(scratch, { recursive: true, force: true });
    }
    const md = parts.join('\n');
    process.stdout.write(md);
    writeFileSync(join(resultsDir, 'summary.md'), md);
    process.stdout.write(`\nresults: ${resultsDir}\n`);
    return;
  }

  let targets: Target[];
  switch (suite) {
    case 'baseline': {
      const fileA = join(scratch, 'file.img');
      const fileB = join(scratch, 'nbdkit.img');
      for (const f of [fileA, fileB]) execFileSync('fallocate', ['-l', String(sizeBytes), f]);
      targets = [new FileTarget(fileA), new NbdkitTarget(fileB, join(scratch, 'nbdkit.sock'))];
      break;
    }
    case 'nbd': {
      const fileB = join(scratch, 'nbdkit.img');
      const fileC = join(scratch, 'ballast.img');
      for (const f of [fileB, fileC]) execFileSync('fallocate', ['-l', String(sizeBytes), f]);
      const serveCli = join(repoRoot, 'packages', 'nbd', 'dist', 'src', 'serve-cli.js');
      targets = [
        new NbdkitTarget(fileB, join(scratch, 'nbdkit.sock')),
        new BallastNbdFileTarget(fileC, join(scratch, 'ballast.sock'), serveCli, nodeOptions),
      ];
      break;
    }
    case 'volume': {
      const fileB = join(scratch, 'nbdkit.img');
      execFileSync('fallocate', ['-l', String(sizeBytes), fileB]);
      const serveJs = join(repoRoot, 'packages', 'engine', 'dist', 'bench', 'serve.js');
      targets = [new NbdkitTarget(fileB, join(scratch, 'nbdkit.sock'))];
      for (const r of (values.replicas ?? '1,2,3').split(',').map(Number)) {
        if (![1, 2, 3, 4, 5].includes(r)) throw new Error(`--replicas: ${r} is not 1..5`);
        for (const inProcess of values['in-process-node'] ? [false, true] : [false]) {
          const tag = `r${r}${inProcess ? '-inproc' : ''}`;
          const dir = join(scratch, tag);
          mkdirSync(dir, { recursive: true });
          targets.push(
            new BallastVolumeTarget(
              r,
              sizeBytes,
              join(scratch, `vol-${tag}.sock`),
              dir,
              serveJs,
              nodeOptions,
              inProcess,
            ),
          );
        }
      }
      break;
    }
    case 'agent': {
      const fileB = join(scratch, 'nbdkit.img');
      execFileSync('fallocate', ['-l', String(sizeBytes), fileB]);
      const ballastJs = join(repoRoot, 'packages', 'cli', 'bin', 'ballast.js');
      targets = [new NbdkitTarget(fileB, join(scratch, 'nbdkit.sock'))];
      for (const r of (values.replicas ?? '1,3').split(',').map(Number)) {
        if (![1, 2, 3].includes(r)) throw new Error(`--replicas: ${r} is not 1..3`);
        for (const embedded of [false, true]) {
          const dir = join(scratch, `agent-r${r}${embedded ? '-embedded' : ''}`);
          mkdirSync(dir, { recursive: true });
          targets.push(new BallastAgentTarget(r, sizeBytes, dir, ballastJs, embedded));
        }
      }
      break;
    }
    default:
      process.stderr.write(`unknown suite "${suite}"\n${USAGE}`);
      process.exit(2);
  }

  const rows: Row[] = [];
  try {
    for (const t of targets) await t.start();
    await precondition(targets, sizeBytes);
    for (let round = 0; round < rounds; round++) {
      for (const job of jobs) {
        for (const t of targets) {
          const row = await measure(t, job, runtimeMs, sizeBytes, resultsDir, round);
          rows.push(row);
          process.stderr.write(`${t.name} ${job.name}: ${Math.round(row.iops)} IOPS\n`);
        }
      }
    }
  } finally {
    for (const t of targets) await t.stop().catch(() => undefined);
    if (!values.dir) rmSync(scratch, { recursive: true, force: true });
  }

  const summary = summarise(rows);
  const table = renderTable(summary);
  process.stdout.write(table);
  writeFileSync(
    join(resultsDir, 'summary.json'),
    JSON.stringify(
      { suite, runtimeMs, sizeBytes, rounds, nodeOptions, loadAverage: loadavg(), rows: summary },
      null,
      2,
    ),
  );
  writeFileSync(join(resultsDir, 'summary.md'), table);
  process.stdout.write(`\nraw fio JSON and summary: ${resultsDir}\n`);
}

/** Averages rounds per (target, job) and adds the ratio to the nbdkit baseline of the same job. */
function summarise(rows: Row[]): Row[] {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const key = `${r.target}\u0000${r.job}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const out: Row[] = [...groups.values()].map((g) => ({
    target: g[0]!.target,
    job: g[0]!.job,
    replicas: g[0]!.replicas,
    iops: mean(g.map((r) => r.iops)),
    mbPerSec: mean(g.map((r) => r.mbPerSec)),
    meanLatUs: mean(g.map((r) => r.meanLatUs)),
    p99LatUs: mean(g.map((r) => r.p99LatUs)),
    hostBusyPct: mean(g.map((r) => r.hostBusyPct)),
    serverCoreUsPerOp: mean(g.map((r) => r.serverCoreUsPerOp)),
  }));
  for (const r of out) {
    const base = out.find((b) => b.target === 'nbdkit' && b.job === r.job);
    if (base && base.iops > 0) r.ratio = r.iops / base.iops;
    const perRound = rows
      .filter((x) => x.target === r.target && x.job === r.job)
      .map((x) => {
        const b = rows.find((y) => y.target === 'nbdkit' && y.job === x.job && y.round === x.round);
        return b && b.iops > 0 ? x.iops / b.iops : NaN;
      })
      .filter((x) => !Number.isNaN(x));
    if (perRound.length > 0) {
      r.ratioMin = Math.min(...perRound);
      r.ratioMax = Math.max(...perRound);
    }
  }
  return out;
}

function renderTable(rows: Row[]): string {
  const head = [
    'job',
    'target',
    'IOPS',
    'MB/s',
    'lat mean µs',
    'lat p99 µs',
    'ratio vs nbdkit',
    'ratio range (rounds)',
    'x replicas',
    'host CPU %',
    'server core-µs/op',
  ];
  const fmt = (n: number | undefined, digits = 0): string =>
    n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
  const lines = rows
    .slice()
    .sort((a, b) => a.job.localeCompare(b.job) || a.target.localeCompare(b.target))
    .map((r) => [
      r.job,
      r.target,
      fmt(r.iops),
      fmt(r.mbPerSec, 1),
      fmt(r.meanLatUs, 1),
      fmt(r.p99LatUs, 1),
      fmt(r.ratio, 2),
      r.ratioMin === undefined ? '-' : `${fmt(r.ratioMin, 2)}-${fmt(r.ratioMax, 2)}`,
      fmt(r.ratio === undefined ? undefined : r.ratio * r.replicas, 2),
      fmt(r.hostBusyPct),
      r.serverCoreUsPerOp ? fmt(r.serverCoreUsPerOp, 1) : '-',
    ]);
  const md = [head, head.map(() => '---'), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n');
  return md + '\n';
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
