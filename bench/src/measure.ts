import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { formatSize } from '@ballast/common';
import { join } from 'node:path';
import { hostCpu, parseFio, processCpuSeconds, runFio, type FioResult, type Job } from './fio.js';
import type { Target } from './targets.js';

/** One measured job on one target (one round), or the mean over rounds. */
export interface Row {
  target: string;
  job: string;
  replicas: number;
  iops: number;
  mbPerSec: number;
  meanLatUs: number;
  p99LatUs: number;
  hostBusyPct: number;
  serverCoreUsPerOp: number;
  round?: number;
  ratio?: number;
  /** Lowest and highest ratio to nbdkit over the rounds (each round against its own nbdkit). */
  ratioMin?: number;
  ratioMax?: number;
}

/** fio's warm-up before every measured job. */
export const RAMP_MS = 2000;

/**
 * Runs one job against one target: fio for `runtimeMs` after a 2 s ramp, with the host's and
 * the server processes' CPU time around it. `extraArgs` go to fio as they are (e.g. an IOPS log).
 */
export async function measure(
  t: Target,
  job: Job,
  runtimeMs: number,
  sizeBytes: number,
  resultsDir: string,
  round: number,
  extraArgs: string[] = [],
): Promise<Row & { fio: FioResult; startMs: number; endMs: number }> {
  const rampMs = RAMP_MS;
  const args = [
    `--name=${job.name}`,
    ...t.fioTarget(),
    `--rw=${job.rw}`,
    `--bs=${job.bs}`,
    `--iodepth=${job.iodepth}`,
    `--size=${sizeBytes}`,
    '--time_based',
    `--runtime=${Math.max(1, Math.round(runtimeMs / 1000))}`,
    `--ramp_time=${rampMs / 1000}`,
    '--lat_percentiles=1',
    '--randrepeat=0',
    '--output-format=json',
    ...extraArgs,
  ];
  // CPU is sampled over the whole run including ramp; close enough for a per-op cost.
  const pids = t.serverPids();
  const startMs = Date.now();
  const cpu0 = hostCpu();
  const srv0 = pids.reduce((a, p) => a + processCpuSeconds(p), 0);
  const out = await runFio(args, runtimeMs + rampMs + 120_000);
  const cpu1 = hostCpu();
  const endMs = Date.now();
  const srv1 = pids.reduce((a, p) => a + processCpuSeconds(p), 0);
  const result = parseFio(out, job.rw);
  writeFileSync(
    join(resultsDir, `${t.name}-${job.name}-r${round}.json`),
    JSON.stringify(result.raw, null, 2),
  );
  const ops = result.iops * ((runtimeMs + rampMs) / 1000);
  return {
    target: t.name,
    job: job.name,
    replicas: t.replicas,
    iops: result.iops,
    mbPerSec: result.bytesPerSec / 1e6,
    meanLatUs: result.meanLatUs,
    p99LatUs: result.p99LatUs,
    hostBusyPct: (100 * (cpu1.busy - cpu0.busy)) / Math.max(1, cpu1.total - cpu0.total),
    serverCoreUsPerOp: ops > 0 ? ((srv1 - srv0) * 1e6) / ops : NaN,
    round,
    fio: result,
    startMs,
    endMs,
  };
}

/**
 * Preconditions every target alike: one sequential 1 MiB QD8 write pass over the whole size,
 * then `sync`. Without the sync the first jobs run while the kernel writes gigabytes of dirty
 * pages back (and throttles writers), which penalises whichever target comes first and the
 * replicated ones most.
 */
export async function precondition(targets: readonly Target[], sizeBytes: number): Promise<void> {
  for (const t of targets) {
    process.stderr.write(`precondition ${t.name}: sequential write of ${formatSize(sizeBytes)}\n`);
    await runFio(
      [
        '--name=precondition',
        ...t.fioTarget(),
        '--rw=write',
        '--bs=1M',
        '--iodepth=8',
        `--size=${sizeBytes}`,
        '--output-format=json',
      ],
      10 * 60_000,
    );
  }
  process.stderr.write('sync: writing preconditioned data back\n');
  execFileSync('sync');
}
