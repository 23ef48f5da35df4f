// The snapshot benchmark (issue 16): live I/O with 0, 100 and 1,000 snapshots as ratios to 0
// in the same run, write pauses while snapshots are taken under 4k random writes at QD32, and
// the space N snapshots keep against the bytes that changed (snapshot-space.ts).
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { formatSize } from '@ballast/common';
import { STANDARD_JOBS, type Job } from './fio.js';
import { RAMP_MS, measure, precondition, type Row } from './measure.js';
import { BallastVolumeTarget, NbdkitTarget, type Target } from './targets.js';

export { runSnapshotSpace } from './snapshot-space.js';

export interface SnapshotSuiteOptions {
  runtimeMs: number;
  sizeBytes: number;
  rounds: number;
  replicas: number[];
  /** Snapshots each volume target takes before it serves (one target per count). */
  counts: number[];
  /** Interval of the periodic snapshots of the pause job. */
  everyMs: number;
  /**
   * Chunk sizes of the pause job's volumes; a size other than the default also gets a volume
   * without snapshots of that chunk size to compare with (4k random write only).
   */
  pauseChunkSizes: number[];
  nodeOptions: string[];
  scratch: string;
  resultsDir: string;
  serveJs: string;
}

const JOBS: Job[] = ['4k-randwrite-qd32', '4k-randread-qd32'].map((n) =>
  STANDARD_JOBS.find((j) => j.name === n)!,
);
const WRITE_JOB = JOBS[0]!;
/** Interval over which completed writes are counted (the dip while snapshots are taken). */
const IOPS_LOG_MS = 100;

interface CountTarget {
  target: BallastVolumeTarget;
  replicas: number;
  count: number;
  chunkSizeBytes: number;
  dir: string;
}

interface PauseTarget {
  target: BallastVolumeTarget;
  replicas: number;
  chunkSizeBytes: number;
  dir: string;
  pauseFile: string;
}

const DEFAULT_CHUNK = 4 * 1024 * 1024;

interface PauseRecord {
  seq: number;
  startMs: number;
  endMs: number;
  pauseMs: number;
}

interface WriteRun {
  row: Row;
  /** IOPS per 100 ms interval of the measured time (from fio's per-I/O completion log). */
  buckets: number[];
  startMs: number;
  endMs: number;
}

export async function runSnapshotSuite(o: SnapshotSuiteOptions): Promise<string> {
  for (const r of o.replicas) {
    if (![1, 2, 3].includes(r)) throw new Error(`--replicas: ${r} is not 1..3`);
  }
  if (!o.counts.includes(0)) throw new Error('--counts must include 0 (the ratios refer to it)');
  const nbdFile = join(o.scratch, 'nbdkit.img');
  execFileSync('fallocate', ['-l', String(o.sizeBytes), nbdFile]);
  const nbdkit = new NbdkitTarget(nbdFile, join(o.scratch, 'nbdkit.sock'));
  const counted: CountTarget[] = [];
  const pausing: PauseTarget[] = [];
  const volume = (
    r: number,
    tag: string,
    chunkSizeBytes: number,
    args: string[],
    nameSuffix: string,
  ): { dir: string; target: BallastVolumeTarget } => {
    const dir = join(o.scratch, tag);
    mkdirSync(dir, { recursive: true });
    const chunk = chunkSizeBytes === DEFAULT_CHUNK ? [] : ['--chunk-size', String(chunkSizeBytes)];
    return {
      dir,
      target: new BallastVolumeTarget(
        r,
        o.sizeBytes,
        join(o.scratch, `vol-${tag}.sock`),
        dir,
        o.serveJs,
        o.nodeOptions,
        false,
        { args: [...chunk, ...args], nameSuffix: `${chunkTag(chunkSizeBytes)}${nameSuffix}` },
      ),
    };
  };
  for (const r of o.replicas) {
    for (const count of o.counts) {
      counted.push({
        replicas: r,
        count,
        chunkSizeBytes: DEFAULT_CHUNK,
        ...volume(
          r,
          `r${r}-s${count}`,
          DEFAULT_CHUNK,
          ['--snapshots', String(count)],
          `-snap${count}`,
        ),
      });
    }
    for (const chunk of o.pauseChunkSizes) {
      if (chunk !== DEFAULT_CHUNK) {
        counted.push({
          replicas: r,
          count: 0,
          chunkSizeBytes: chunk,
          ...volume(r, `r${r}-c${chunk}-s0`, chunk, [], '-snap0'),
        });
      }
      const tag = `r${r}-c${chunk}-every${o.everyMs}`;
      const pauseFile = join(o.resultsDir, `pauses-${tag}.json`);
      pausing.push({
        replicas: r,
        chunkSizeBytes: chunk,
        pauseFile,
        ...volume(
          r,
          tag,
          chunk,
          [
            '--snapshot-every-ms',
            String(o.everyMs),
            '--snapshot-on-signal',
            '--pause-file',
            pauseFile,
          ],
          `-every${o.everyMs}ms`,
        ),
      });
    }
  }
  const all: Target[] = [nbdkit, ...counted.map((c) => c.target), ...pausing.map((p) => p.target)];

  const rows: Row[] = [];
  const writeRuns = new Map<string, WriteRun[]>();
  const load: number[] = [];
  const snapBytes = new Map<string, number>();
  try {
    for (const t of all) {
      const started = Date.now();
      await t.start();
      process.stderr.write(`${t.name}: serving after ${Date.now() - started} ms\n`);
    }
    await precondition(all, o.sizeBytes);
    for (let round = 0; round < o.rounds; round++) {
      for (const job of JOBS) {
        // Volumes of other chunk sizes and the pause job's volumes take part in the write job
        // only.
        const some = job === WRITE_JOB ? all : all.filter((t) => !writeOnly(t));
        // Odd rounds run the targets in reverse order, so no target always follows the same one.
        const targets = round % 2 === 0 ? some : [...some].reverse();
        for (const t of targets) {
          // Nothing the previous target left dirty is written back during this one.
          execFileSync('sync');
          load.push(loadavg()[0]!);
          const logPrefix = join(o.resultsDir, `${t.name}-${job.name}-r${round}`);
          // One line per completed write (time in ms, latency): counted per 100 ms below.
          const extra =
            job === WRITE_JOB
              ? [`--write_lat_log=${logPrefix}`, '--disable_slat=1', '--log_avg_msec=0']
              : [];
          const pause = pausing.find((p) => p.target === t);
          pause?.target.signal('SIGUSR1');
          let row;
          try {
            row = await measure(t, job, o.runtimeMs, o.sizeBytes, o.resultsDir, round, extra);
          } finally {
            pause?.target.signal('SIGUSR1');
          }
          rows.push(row);
          if (job === WRITE_JOB) {
            const runs = writeRuns.get(t.name) ?? [];
            runs.push({
              row,
              buckets: completionBuckets(logPrefix, o.runtimeMs),
              startMs: row.startMs,
              endMs: row.endMs,
            });
            writeRuns.set(t.name, runs);
          }
          process.stderr.write(`${t.name} ${job.name}: ${Math.round(row.iops)} IOPS\n`);
        }
      }
    }
    for (const c of counted) snapBytes.set(c.target.name, snapFileBytes(c.dir));
    for (const p of pausing) snapBytes.set(p.target.name, snapFileBytes(p.dir));
  } finally {
    for (const t of all) await t.stop().catch(() => undefined);
  }

  const out: string[] = [];
  const loadRange = `${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`;
  out.push(
    `## Snapshots: live I/O with N snapshots (ratio to 0 snapshots, same run)\n\n` +
      `${o.rounds} round(s) of ${o.runtimeMs / 1000} s per job (+${RAMP_MS / 1000} s ramp), ` +
      `${formatSize(o.sizeBytes)} volumes, 1-minute load average ${loadRange} before the jobs.\n`,
  );
  out.push(countTable(rows, counted, snapBytes));
  out.push(startupTable(counted));
  const pauses: Record<string, unknown> = {};
  for (const p of pausing) {
    const file = existsSync(p.pauseFile)
      ? (JSON.parse(readFileSync(p.pauseFile, 'utf8')) as {
          pauses: PauseRecord[];
          errors: string[];
        })
      : { pauses: [], errors: ['no pause file'] };
    pauses[p.target.name] = file;
  }
  if (pausing.length > 0) out.push(pauseTable(o, pausing, counted, writeRuns, pauses, snapBytes));
  writeFileSync(
    join(o.resultsDir, 'snapshots.json'),
    JSON.stringify(
      {
        options: { ...o, serveJs: undefined },
        loadAverages: load,
        rows: rows.map(({ fio: _fio, ...r }: Row & { fio?: unknown }) => r),
        startup: counted.map((c) => ({ target: c.target.name, ready: c.target.ready })),
        snapFileBytes: Object.fromEntries(snapBytes),
        writeBuckets: Object.fromEntries(
          [...writeRuns].map(([k, v]) => [k, v.map((r) => r.buckets)]),
        ),
      },
      null,
      2,
    ),
  );
  return out.join('\n');

  function writeOnly(t: Target): boolean {
    return (
      pausing.some((p) => p.target === t) ||
      counted.some((c) => c.target === t && c.chunkSizeBytes !== DEFAULT_CHUNK)
    );
  }
}

function countTable(rows: Row[], counted: CountTarget[], snapBytes: Map<string, number>): string {
  const head = [
    'job',
    'replicas',
    'chunk',
    'snapshots',
    'IOPS (mean)',
    'ratio to 0 snapshots (rounds)',
    'lat mean µs',
    'lat p99 µs',
    'server core-µs/op',
    'ratio to nbdkit',
    'host CPU %',
    '.snap on disk',
  ];
  const lines: string[][] = [];
  for (const job of JOBS) {
    for (const c of counted) {
      const mine = rows.filter((r) => r.target === c.target.name && r.job === job.name);
      if (mine.length === 0) continue;
      const zero = counted.find(
        (z) => z.replicas === c.replicas && z.count === 0 && z.chunkSizeBytes === c.chunkSizeBytes,
      )!;
      const ratios = mine.map((r) => {
        const b = rows.find(
          (x) => x.target === zero.target.name && x.job === job.name && x.round === r.round,
        );
        return b && b.iops > 0 ? r.iops / b.iops : NaN;
      });
      const nbd = mine.map((r) => {
        const b = rows.find(
          (x) => x.target === 'nbdkit' && x.job === job.name && x.round === r.round,
        );
        return b && b.iops > 0 ? r.iops / b.iops : NaN;
      });
      lines.push([
        job.name,
        String(c.replicas),
        formatSize(c.chunkSizeBytes),
        String(c.count),
        fmt(mean(mine.map((r) => r.iops))),
        `${fmt(mean(ratios), 2)}${ratios.length > 1 ? ` (${fmt(Math.min(...ratios), 2)}-${fmt(Math.max(...ratios), 2)})` : ''}`,
        fmt(mean(mine.map((r) => r.meanLatUs))),
        fmt(mean(mine.map((r) => r.p99LatUs))),
        fmt(mean(mine.map((r) => r.serverCoreUsPerOp))),
        fmt(mean(nbd), 2),
        fmt(mean(mine.map((r) => r.hostBusyPct))),
        formatSize(snapBytes.get(c.target.name) ?? 0),
      ]);
    }
    const nb = rows.filter((r) => r.target === 'nbdkit' && r.job === job.name);
    if (nb.length > 0) {
      lines.push([
        job.name,
        'nbdkit',
        '-',
        '-',
        fmt(mean(nb.map((r) => r.iops))),
        '-',
        fmt(mean(nb.map((r) => r.meanLatUs))),
        fmt(mean(nb.map((r) => r.p99LatUs))),
        fmt(mean(nb.map((r) => r.serverCoreUsPerOp))),
        '1.00',
        fmt(mean(nb.map((r) => r.hostBusyPct))),
        '-',
      ]);
    }
  }
  return markdown(head, lines);
}

function startupTable(counted: CountTarget[]): string {
  const lines = counted
    .filter((c) => c.count > 0)
    .map((c) => {
      const s = (c.target.ready.startupSnapshots ?? {}) as Record<string, number>;
      return [
        c.target.name,
        String(s.snapshots ?? '-'),
        String(s.writesPerSnapshot ?? '-'),
        fmt(s.setupMs),
        fmt(s.pauseP50Ms, 1),
        fmt(s.pauseP99Ms, 1),
      ];
    });
  if (lines.length === 0) return '';
  return (
    '\nSnapshots taken before serving (idle volume, random 4 KiB writes between them):\n\n' +
    markdown(
      [
        'target',
        'snapshots',
        '4k writes before each',
        'total ms',
        'snapshot p50 ms',
        'snapshot p99 ms',
      ],
      lines,
    )
  );
}

function pauseTable(
  o: SnapshotSuiteOptions,
  pausing: PauseTarget[],
  counted: CountTarget[],
  writeRuns: Map<string, WriteRun[]>,
  files: Record<string, unknown>,
  snapBytes: Map<string, number>,
): string {
  const head = [
    'replicas',
    'chunk',
    'snapshots taken',
    'pause p50 ms',
    'pause p99 ms',
    'pause max ms',
    'IOPS',
    'ratio to no snapshots',
    'write lat mean / p99 ms',
    `IOPS per ${IOPS_LOG_MS} ms: median / p5 / min (stalled)`,
    `same without snapshots`,
    'server core-µs/op',
    '.snap on disk',
    'errors',
  ];
  const lines: string[][] = [];
  for (const p of pausing) {
    const runs = writeRuns.get(p.target.name) ?? [];
    const zero = counted.find(
      (c) => c.replicas === p.replicas && c.count === 0 && c.chunkSizeBytes === p.chunkSizeBytes,
    );
    const zeroRuns = zero ? (writeRuns.get(zero.target.name) ?? []) : [];
    const file = files[p.target.name] as { pauses: PauseRecord[]; errors: string[] };
    // Pauses that started within a measured window (after fio's ramp).
    const inWindow = file.pauses.filter((x) =>
      runs.some((r) => x.startMs >= r.startMs + RAMP_MS && x.startMs <= r.endMs),
    );
    const sorted = inWindow.map((x) => x.pauseMs).sort((a, b) => a - b);
    const ratios = runs.map((r) => {
      const z = zeroRuns.find((x) => x.row.round === r.row.round);
      return z && z.row.iops > 0 ? r.row.iops / z.row.iops : NaN;
    });
    const buckets = runs.flatMap((r) => r.buckets).sort((a, b) => a - b);
    const zeroBuckets = zeroRuns.flatMap((r) => r.buckets).sort((a, b) => a - b);
    lines.push([
      String(p.replicas),
      formatSize(p.chunkSizeBytes),
      String(sorted.length),
      fmt(quantile(sorted, 0.5), 1),
      fmt(quantile(sorted, 0.99), 1),
      fmt(sorted[sorted.length - 1], 1),
      fmt(mean(runs.map((r) => r.row.iops))),
      `${fmt(mean(ratios), 2)}${ratios.length > 1 ? ` (${fmt(Math.min(...ratios), 2)}-${fmt(Math.max(...ratios), 2)})` : ''}`,
      `${fmt(mean(runs.map((r) => r.row.meanLatUs)) / 1000, 1)} / ${fmt(mean(runs.map((r) => r.row.p99LatUs)) / 1000, 1)}`,
      bucketCell(buckets),
      bucketCell(zeroBuckets),
      fmt(mean(runs.map((r) => r.row.serverCoreUsPerOp))),
      formatSize(snapBytes.get(p.target.name) ?? 0),
      String(file.errors.length),
    ]);
  }
  return (
    `\n## Snapshots: write pauses, a snapshot every ${o.everyMs} ms under ${WRITE_JOB.name}\n\n` +
    markdown(head, lines)
  );
}

function chunkTag(bytes: number): string {
  return bytes === DEFAULT_CHUNK ? '' : `-chunk${bytes / 1024}k`;
}

/** Median, 5th percentile and lowest IOPS of the 100 ms intervals, and how many saw no I/O. */
function bucketCell(sorted: number[]): string {
  if (sorted.length === 0) return '-';
  const stalled = sorted.filter((b) => b === 0).length;
  return `${fmt(quantile(sorted, 0.5))} / ${fmt(quantile(sorted, 0.05))} / ${fmt(sorted[0])} (${stalled} of ${sorted.length})`;
}

/**
 * Completed I/Os per 100 ms (as IOPS) over the measured time, from fio's completion-latency log
 * without averaging (`time_ms, clat_ns, dir, bs, offset`: one line per I/O, time from the end
 * of the ramp). Intervals without any completion count as 0. The logs are removed afterwards
 * except the completion log, which stays with the results.
 */
function completionBuckets(prefix: string, runtimeMs: number): number[] {
  const clat = `${prefix}_clat.1.log`;
  rmSync(`${prefix}_lat.1.log`, { force: true });
  if (!existsSync(clat)) return [];
  const n = Math.floor(runtimeMs / IOPS_LOG_MS);
  const counts = new Array<number>(n).fill(0);
  for (const line of readFileSync(clat, 'utf8').split('\n')) {
    const comma = line.indexOf(',');
    if (comma < 0) continue;
    const i = Math.floor(Number(line.slice(0, comma)) / IOPS_LOG_MS);
    if (i >= 0 && i < n) counts[i]! += 1;
  }
  return counts.map((c) => (c * 1000) / IOPS_LOG_MS);
}

/** Bytes allocated on disk by every `.snap` file under `dir` (the replicas' snapshot slots). */
function snapFileBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.snap')) total += statSync(p).blocks * 512;
    }
  };
  if (existsSync(dir)) walk(dir);
  return total;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function mean(xs: readonly number[]): number {
  const ok = xs.filter((x) => !Number.isNaN(x));
  return ok.length === 0 ? NaN : ok.reduce((a, b) => a + b, 0) / ok.length;
}

export function fmt(n: number | undefined, digits = 0): string {
  return n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
}

export function markdown(head: string[], lines: string[][]): string {
  return `${[head, head.map(() => '---'), ...lines].map((l) => `| ${l.join(' | ')} |`).join('\n')}\n`;
}
