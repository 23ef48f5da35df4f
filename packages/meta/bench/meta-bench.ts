// Committed writes per second and latency of a 3-member `ballastd meta` cluster on loopback, and
// of 3 etcd members (when /usr/bin/etcd is installed) doing puts of the same size, with the same
// closed-loop clients over keep-alive HTTP/1.1 to the leader.
//
//   npm run build && node packages/meta/dist/bench/meta-bench.js [--seconds 8] [--rounds 1]
//                                                                [--concurrency 1,16] [--no-etcd]
//
// The meta write is PUT /v1/nodes/{id}/labels with about 256 bytes of labels that change on every
// request (the route commits without a read barrier, so each request is one log entry, applied
// and answered after a majority fsync'd it). The etcd write is a 256-byte value through the JSON
// gateway (/v3/kv/put). Systems take turns per round so that other load on the machine hits both.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fleet, freePort, waitFor } from '@ballast/testkit';
import { FAKE_NODES, registerFakeNodes } from '../test/helpers/fake-nodes.js';
import { startMetaCluster } from '../test/helpers/real-cluster.js';

interface Options {
  seconds: number;
  rounds: number;
  concurrency: number[];
  etcd: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { seconds: 8, rounds: 1, concurrency: [1, 16], etcd: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--no-etcd') {
      o.etcd = false;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--seconds') o.seconds = Number(value);
    else if (flag === '--rounds') o.rounds = Number(value);
    else if (flag === '--concurrency') o.concurrency = value.split(',').map(Number);
    else throw new Error(`unknown argument ${flag}`);
  }
  return o;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request on the shared keep-alive agent; resolves with the status (0 on failure). */
function send(url: string, method: string, body: string, headers: Record<string, string>) {
  return new Promise<number>((resolve) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: { 'content-type': 'application/json', ...headers },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

type WriteFn = (client: number, seq: number) => Promise<boolean>;

interface LoadResult {
  writes: number;
  failures: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

/** Closed loop: each client sends its next write when the previous one is answered. */
async function runLoad(write: WriteFn, clients: number, seconds: number): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let failures = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      // Bounded by time and by count, whichever ends first.
      for (let seq = 0; seq < 10_000_000 && performance.now() < end; seq++) {
        const t0 = performance.now();
        if (await write(client, seq)) latenciesMs.push(performance.now() - t0);
        else failures++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latenciesMs.sort((a, b) => a - b);
  const at = (q: number) =>
    latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(q * latenciesMs.length))] ?? NaN;
  return {
    writes: latenciesMs.length,
    failures,
    seconds: elapsed,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

interface System {
  name: string;
  write: WriteFn;
  stop(): Promise<void>;
}

async function metaSystem(fleet: Fleet): Promise<System> {
  const cluster = await startMetaCluster(fleet, 3);
  const leader = await cluster.waitForLeader();
  await registerFakeNodes(cluster, leader);
  const base = cluster.urls.get(leader)!;
  const auth = { authorization: `Bearer ${cluster.token}` };
  const filler = 'x'.repeat(52);
  const write: WriteFn = async (client, seq) => {
    const node = FAKE_NODES[client % FAKE_NODES.length]!.id;
    const stamp = `${client}-${seq}`.padStart(8, '0').slice(-8);
    // 4 labels of 63-byte values: about 256 bytes of labels per command.
    const labels = {
      k0: filler + stamp,
      k1: filler + stamp,
      k2: filler + stamp,
      k3: filler + stamp,
    };
    const status = await send(
      `${base}/v1/nodes/${node}/labels`,
      'PUT',
      JSON.stringify({ labels }),
      auth,
    );
    return status === 200;
  };
  return { name: 'ballast meta', write, stop: () => fleet.stopAll() };
}

async function etcdSystem(dir: string): Promise<System> {
  const ids = ['e1', 'e2', 'e3'];
  const ports: Array<{ client: number; peer: number }> = [];
  for (const _ of ids) ports.push({ client: await freePort(), peer: await freePort() });
  const cluster = ids.map((id, i) => `${id}=http://127.0.0.1:${ports[i]!.peer}`).join(',');
  const children: ChildProcess[] = ids.map((id, i) => {
    const { client, peer } = ports[i]!;
    const log = openSync(join(dir, `${id}.log`), 'a');
    return spawn(
      '/usr/bin/etcd',
      [
        `--name=${id}`,
        `--data-dir=${join(dir, id)}`,
        `--listen-client-urls=http://127.0.0.1:${client}`,
        `--advertise-client-urls=http://127.0.0.1:${client}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=${cluster}`,
        '--initial-cluster-state=new',
        '--initial-cluster-token=meta-bench',
        '--log-level=warn',
      ],
      { stdio: ['ignore', log, log] },
    );
  });
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
  };
  const statusOf = (url: string) =>
    new Promise<{ leader?: string; header?: { member_id?: string } }>((resolve, reject) => {
      const req = request(
        `${url}/v3/maintenance/status`,
        { method: 'POST', agent, timeout: 2000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            try {
              resolve(JSON.parse(text) as { leader?: string; header?: { member_id?: string } });
            } catch (err) {
              reject(err as Error);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', reject);
      req.end('{}');
    });
  let leaderUrl: string;
  try {
    leaderUrl = await waitFor(
      'an etcd leader',
      async () => {
        for (const { client } of ports) {
          const url = `http://127.0.0.1:${client}`;
          const s = await statusOf(url).catch(() => undefined);
          if (s?.leader && s.header?.member_id === s.leader) return url;
        }
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const value = Buffer.alloc(256, 'v').toString('base64');
  const write: WriteFn = async (client, seq) => {
    const key = Buffer.from(`bench/${client}/${seq % 1000}`).toString('base64');
    const status = await send(`${leaderUrl}/v3/kv/put`, 'POST', JSON.stringify({ key, value }), {});
    return status === 200;
  };
  return { name: 'etcd', write, stop };
}

function median(xs: LoadResult[]): LoadResult {
  const sorted = [...xs].sort((a, b) => a.writes / a.seconds - b.writes / b.seconds);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const options = parseOptions(process.argv.slice(2));
const dir = mkdtempSync(join(tmpdir(), 'meta-bench-'));
const systems: System[] = [];
try {
  const load = loadavg();
  console.log(`load average at start: ${load.map((x) => x.toFixed(2)).join(' ')}`);
  systems.push(await metaSystem(new Fleet(join(dir, 'meta'))));
  const haveEtcd = options.etcd && spawnSync('/usr/bin/etcd', ['--version']).status === 0;
  if (haveEtcd) {
    const etcdDir = join(dir, 'etcd');
    spawnSync('mkdir', ['-p', etcdDir]);
    systems.push(await etcdSystem(etcdDir));
  } else console.log('etcd not available: ballast meta only');
  // Warm-up: connections, JIT, the first fsyncs.
  for (const s of systems) await runLoad(s.write, 4, 1);

  const rows: string[] = [];
  for (const clients of options.concurrency) {
    const results = new Map<string, LoadResult[]>();
    for (let round = 0; round < options.rounds; round++) {
      for (const s of systems) {
        const r = await runLoad(s.write, clients, options.seconds);
        results.set(s.name, [...(results.get(s.name) ?? []), r]);
      }
    }
    for (const s of systems) {
      const r = median(results.get(s.name)!);
      rows.push(
        `| ${s.name}, ${clients} client${clients === 1 ? '' : 's'} | ${(r.writes / r.seconds).toFixed(0)} | ${r.p50Ms.toFixed(2)} ms | ${r.p99Ms.toFixed(2)} ms | ${r.failures} |`,
      );
    }
  }
  console.log('\n| | committed writes/s | p50 | p99 | failed |\n| --- | --- | --- | --- | --- |');
  console.log(rows.join('\n'));
  console.log(
    `\nload average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  for (const s of systems) await s.stop().catch(() => undefined);
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
