import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One fio workload, the same for every target. */
export interface Job {
  name: string;
  rw: 'randread' | 'randwrite' | 'read' | 'write';
  bs: string;
  iodepth: number;
}

export const STANDARD_JOBS: Job[] = [
  { name: '4k-randwrite-qd1', rw: 'randwrite', bs: '4k', iodepth: 1 },
  { name: '4k-randwrite-qd32', rw: 'randwrite', bs: '4k', iodepth: 32 },
  { name: '4k-randread-qd1', rw: 'randread', bs: '4k', iodepth: 1 },
  { name: '4k-randread-qd32', rw: 'randread', bs: '4k', iodepth: 32 },
  { name: '1m-seqwrite-qd8', rw: 'write', bs: '1M', iodepth: 8 },
  { name: '1m-seqread-qd8', rw: 'read', bs: '1M', iodepth: 8 },
];

export interface FioResult {
  iops: number;
  bytesPerSec: number;
  meanLatUs: number;
  p99LatUs: number;
  raw: unknown;
}

interface FioJobSide {
  iops: number;
  bw_bytes: number;
  lat_ns: { mean: number; percentile?: Record<string, number> };
  clat_ns?: { percentile?: Record<string, number> };
}

export function parseFio(jsonText: string, rw: Job['rw']): FioResult {
  // fio may print warnings before the JSON document.
  const start = jsonText.indexOf('{');
  const doc = JSON.parse(jsonText.slice(start)) as {
    jobs: Array<{ read: FioJobSide; write: FioJobSide; error: number }>;
  };
  const job = doc.jobs[0];
  if (!job) throw new Error('fio output has no jobs');
  if (job.error) throw new Error(`fio job failed with error ${job.error}`);
  const side = rw.includes('read') ? job.read : job.write;
  const pct = side.lat_ns.percentile ?? side.clat_ns?.percentile ?? {};
  return {
    iops: side.iops,
    bytesPerSec: side.bw_bytes,
    meanLatUs: side.lat_ns.mean / 1000,
    p99LatUs: (pct['99.000000'] ?? NaN) / 1000,
    raw: doc,
  };
}

export function runFio(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'fio',
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`fio ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** Busy and total jiffies of the whole host, from /proc/stat. */
export function hostCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** utime+stime of a process in seconds (0 if it is gone). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return 0;
  }
}
