// Committed writes per second and latency of a 3-member cluster of kv-server processes on this
// machine (loopback, fsync before every acknowledgement), at several client concurrencies;
// and, when the `etcd` binary is installed (Debian: etcd-server), the same client loop against
// 3 etcd members through etcd's JSON gateway (/v3/kv/put), side by side.
//
//   node dist/bench/raft-bench.js [--seconds 8] [--rounds 3] [--concurrency 1,16] [--value-bytes 256]
//                                 [--no-etcd] [--keep]
//
// Each put goes to the leader over HTTP/1.1 keep-alive; a put counts when its answer arrives
// (after the entry is committed, i.e. fsync'd on a majority, and applied on the leader).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@ballast/testkit';
import { KvCluster, http } from '../test/fixtures/kv-cluster.js';

interface Args {
  seconds: number;
  rounds: number;
  concurrency: number[];
  valueBytes: number;
  etcd: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    seconds: 8,
    rounds: 3,
    concurrency: [1, 16],
    valueBytes: 256,
    etcd: true,
    keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--no-etcd') a.etcd = false;
    else if (k === '--keep') a.keep = true;
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      if (k === '--seconds') a.seconds = Number(v);
      else if (k === '--rounds') a.rounds = Number(v);
      else if (k === '--concurrency') a.concurrency = v.split(',').map(Number);
      else if (k === '--value-bytes') a.valueBytes = Number(v);
      else throw new Error(`unknown argument ${k}`);
    }
  }
  return a;
}

interface RunResult {
  system: string;
  concurrency: number;
  ops: number;
  errors: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

type PutFn = (key: string, value: string) => Promise<boolean>;

async function runLoad(
  system: string,
  put: PutFn,
  concurrency: number,
  seconds: number,
  valueBytes: number,
  afterWarmUp?: () => Promise<void>,
): Promise<RunResult> {
  const value = 'v'.repeat(valueBytes);
  const latenciesUs: number[] = [];
  let errors = 0;
  let n = 0;
  // Warm-up: connections, JIT, leader caches. Not counted.
  const warmEnd = Date.now() + 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      while (Date.now() < warmEnd) await put(`bench/${c}/${n++ % 1000}`, value);
    }),
  );
  await afterWarmUp?.();
  const startNs = process.hrtime.bigint();
  const endMs = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      // Bounded by time; each iteration is one request with its own timeout.
      while (Date.now() < endMs) {
        const t0 = process.hrtime.bigint();
        const ok = await put(`bench/${c}/${n++ % 1000}`, value);
        const us = Number(process.hrtime.bigint() - t0) / 1000;
        if (ok) latenciesUs.push(us);
        else errors++;
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - startNs) / 1e9;
  latenciesUs.sort((a, b) => a - b);
  const pct = (p: number) =>
    (latenciesUs[Math.min(latenciesUs.length - 1, Math.floor(p * latenciesUs.length))] ?? 0) / 1000;
  return {
    system,
    concurrency,
    ops: latenciesUs.length,
    errors,
    seconds: elapsed,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    maxMs: (latenciesUs[latenciesUs.length - 1] ?? 0) / 1000,
  };
}

interface BatchStats {
  writes: number;
  entries: number;
  writeSeconds: number;
}

/** The leader's log batch counters (to show how many entries each fsync carried). */
async function leaderBatchStats(api: string): Promise<BatchStats> {
  const r = await http('GET', `${api}/metrics`);
  const text = String(r.body['text'] ?? '');
  const num = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    writes: num('ballast_raft_entries_per_batch_count'),
    entries: num('ballast_raft_entries_per_batch_sum'),
    writeSeconds: num('ballast_raft_disk_write_seconds_sum'),
  };
}

async function ballastCluster(
  dir: string,
): Promise<{ put: PutFn; stop: () => Promise<void>; stats: () => Promise<BatchStats> }> {
  // Snapshot every 100,000 entries, as etcd 3.4 does by default (--snapshot-count).
  const cluster = new KvCluster(
    'bench',
    {
      tickMs: 100,
      electionTicks: 10,
      snapshotEveryEntries: 100_000,
      keepEntriesAfterSnapshot: 5000,
    },
    join(dir, 'ballast'),
  );
  await cluster.startAll(['m1', 'm2', 'm3']);
  const leader = await cluster.leader();
  const api = cluster.node(leader).api;
  const put: PutFn = async (key, value) => {
    try {
      const r = await http('PUT', `${api}/kv/${encodeURIComponent(key)}`, value, 10_000);
      return r.status === 200;
    } catch {
      return false;
    }
  };
  return { put, stop: () => cluster.stopAll(), stats: () => leaderBatchStats(api) };
}

async function etcdCluster(dir: string): Promise<{ put: PutFn; stop: () => Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const ids = ['e1', 'e2', 'e3'];
  const ports = await Promise.all(
    ids.map(async () => ({ client: await freePort(), peer: await freePort() })),
  );
  const initial = ids.map((id, i) => `${id}=http://127.0.0.1:${ports[i]!.peer}`).join(',');
  const procs: ChildProcess[] = [];
  ids.forEach((id, i) => {
    const p = ports[i]!;
    const log = openSync(join(dir, `${id}.log`), 'a');
    procs.push(
      spawn(
        'etcd',
        [
          '--name',
          id,
          '--data-dir',
          join(dir, id),
          '--listen-client-urls',
          `http://127.0.0.1:${p.client}`,
          '--advertise-client-urls',
          `http://127.0.0.1:${p.client}`,
          '--listen-peer-urls',
          `http://127.0.0.1:${p.peer}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${p.peer}`,
          '--initial-cluster',
          initial,
          '--initial-cluster-state',
          'new',
          '--initial-cluster-token',
          'bench',
          '--log-level',
          'warn',
        ],
        { stdio: ['ignore', log, log] },
      ),
    );
  });
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
  };
  try {
    // The leader's client URL: ask each member who leads.
    const leaderUrl = await waitFor(
      'an etcd leader',
      async () => {
        for (let i = 0; i < ids.length; i++) {
          const url = `http://127.0.0.1:${ports[i]!.client}`;
          const r = await http('POST', `${url}/v3/maintenance/status`, '{}', 2000);
          const header = r.body['header'] as { member_id?: string } | undefined;
          if (r.body['leader'] && header?.member_id === r.body['leader']) return url;
        }
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const put: PutFn = async (key, value) => {
      const body = JSON.stringify({
        key: Buffer.from(key).toString('base64'),
        value: Buffer.from(value).toString('base64'),
      });
      try {
        const r = await http('POST', `${leaderUrl}/v3/kv/put`, body, 10_000);
        return r.status === 200;
      } catch {
        return false;
      }
    };
    return { put, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function fdatasyncRate(dir: string): number {
  // Rough host fdatasync rate for context (the floor of every durable commit).
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `const fs=require('fs');const f=fs.openSync(${JSON.stringify(join(dir, 'sync-probe'))},'w');` +
        `const b=Buffer.alloc(512);let n=0;const end=Date.now()+2000;` +
        `while(Date.now()<end){fs.writeSync(f,b);fs.fdatasyncSync(f);n++}console.log(n/2)`,
    ],
    { encoding: 'utf8' },
  );
  return Number(r.stdout.trim());
}

function fmt(r: RunResult): string {
  const rate = (r.ops / r.seconds).toFixed(0).padStart(7);
  return (
    `${r.system.padEnd(8)} c=${String(r.concurrency).padEnd(3)} ${rate} puts/s  ` +
    `p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(7)} ms  ` +
    `max ${r.maxMs.toFixed(1).padStart(6)} ms  errors ${r.errors}`
  );
}

const args = parseArgs(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), 'raft-bench-'));
const haveEtcd = args.etcd && spawnSync('etcd', ['--version']).status === 0;
console.log(
  `raft-bench: ${cpus().length} cpus, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`host fdatasync: ${fdatasyncRate(dir)}/s (512-byte writes)`);
console.log(
  `values ${args.valueBytes} B, ${args.seconds} s per run, ${args.rounds} rounds, 3 members on loopback`,
);
const results: RunResult[] = [];
const clusters: Array<{
  name: string;
  put: PutFn;
  stop: () => Promise<void>;
  stats?: () => Promise<BatchStats>;
}> = [];
try {
  clusters.push({ name: 'ballast', ...(await ballastCluster(join(dir, 'ballast'))) });
  if (haveEtcd) clusters.push({ name: 'etcd', ...(await etcdCluster(join(dir, 'etcd'))) });
  else console.log('etcd not installed: ballast only');
  // Systems take turns at each concurrency, round after round, so that a change in the load
  // other processes put on this machine hits both alike.
  for (let round = 1; round <= args.rounds; round++) {
    for (const conc of args.concurrency) {
      for (const c of clusters) {
        let before: BatchStats | undefined;
        const r = await runLoad(c.name, c.put, conc, args.seconds, args.valueBytes, async () => {
          before = await c.stats?.();
        });
        const after = await c.stats?.();
        results.push(r);
        let batches = '';
        if (before && after && after.writes > before.writes) {
          const writes = after.writes - before.writes;
          const perBatch = (after.entries - before.entries) / writes;
          const ms = ((after.writeSeconds - before.writeSeconds) / writes) * 1000;
          batches = `  leader: ${perBatch.toFixed(1)} entries/fsync, ${ms.toFixed(2)} ms/write`;
        }
        console.log(`round ${round} ${fmt(r)}   (load ${loadavg()[0]!.toFixed(2)})${batches}`);
      }
    }
  }
  console.log(`host fdatasync after: ${fdatasyncRate(dir)}/s`);
  console.log('\nmedian of rounds (by throughput):');
  for (const conc of args.concurrency) {
    for (const c of clusters) {
      const rs = results
        .filter((x) => x.concurrency === conc && x.system === c.name)
        .sort((a, b) => a.ops / a.seconds - b.ops / b.seconds);
      const median = rs[Math.floor(rs.length / 2)];
      if (median) console.log(fmt(median));
    }
  }
} finally {
  for (const c of clusters) await c.stop();
  if (args.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
