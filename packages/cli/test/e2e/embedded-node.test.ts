// The agent's embedded storage node (`ballastd agent --node-data-dir`, `dev up --embed-node`),
// with the real binaries: 1 meta member, 2 `ballastd node` processes and an agent that runs the
// third node in its own process. A 3-replica volume has a replica on each; the agent's engine
// reaches its own node's replica without a socket and reads only from it. Under an fio verify
// stream a remote node is SIGKILLed (fio goes on, the node leaves the in-sync set, comes back and
// is rebuilt); then the agent itself is SIGKILLed mid-stream, taking its node with it: the next
// agent attaches again (new epoch, reconcile after the unclean stop), every write of the last
// completed fio run and the flushed pattern read back, and all replicas are byte-identical
// (compared chunk by chunk over the data plane, the embedded node's included).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { DataPlaneClient } from '@ballast/dataplane';
import { isAlive, waitFor } from '@ballast/testkit';
import { ballast, run, type Result } from '../helpers/exec.js';

const MiB = 1024 * 1024;
const WAIT_MS = 120_000;
/** fio's verify region: written and verified again and again while nodes are killed. */
const FIO_OFFSET = 16 * MiB;
const FIO_BYTES = 32 * MiB;

interface ClusterFile {
  clusterId: string;
  dataPlaneSecret: string;
  nodes: Array<{ id: string; pid: number; metrics: string }>;
  agents: Array<{ pid: number; embeddedNode?: string; metrics: string }>;
  meta: Array<{ pid: number }>;
}

interface VolumeView {
  id: string;
  epoch: number;
  attachment?: { host: string; epoch: number } | null;
  replicas: Array<{ nodeId: string; role: string }>;
}

async function ok(t: Test, result: Result, what: string): Promise<Result> {
  t.equal(result.code, 0, `${what}: exit 0 (stderr: ${result.stderr.trim().slice(-2000)})`);
  return result;
}

function fioArgs(uri: string, seed: number, extra: string[] = []): string[] {
  return [
    '--name=verify',
    '--ioengine=nbd',
    `--uri=${uri}`,
    '--rw=randwrite',
    '--bs=64k',
    '--iodepth=8',
    `--offset=${FIO_OFFSET}`,
    `--size=${FIO_BYTES}`,
    '--verify=crc32c',
    '--verify_fatal=1',
    '--verify_state_save=0',
    `--randseed=${seed}`,
    '--output-format=json',
    ...extra,
  ];
}

/** fio verify runs back to back (each writes the region, then reads and checks all of it). */
class FioLoop {
  runs = 0;
  readonly failures: string[] = [];
  private stopping = false;
  private readonly done: Promise<void>;

  constructor(private readonly uri: string) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopping && this.failures.length === 0) {
      const result = await run('fio', fioArgs(this.uri, this.runs + 1, ['--do_verify=1']));
      let error: unknown;
      try {
        error = (
          JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as {
            jobs: Array<{ error: number }>;
          }
        ).jobs[0]!.error;
      } catch {
        error = 'no JSON output';
      }
      if (result.code !== 0 || error !== 0) {
        this.failures.push(
          `fio run ${this.runs + 1}: exit ${result.code}, error ${String(error)}: ${result.stderr.slice(-2000)}`,
        );
        return;
      }
      this.runs += 1;
    }
  }

  async more(n: number, what: string): Promise<void> {
    const target = this.runs + n;
    await waitFor(what, () => this.failures.length > 0 || this.runs >= target, {
      timeoutMs: WAIT_MS,
      intervalMs: 100,
    });
    if (this.failures.length > 0) throw new Error(`${what}: ${this.failures.join('\n')}`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.done;
  }
}

/** Read and write requests the separate nodes (n1, n2) have served over the data plane. */
async function dataPlaneRequests(file: ClusterFile): Promise<{ reads: number; writes: number }> {
  const total = { reads: 0, writes: 0 };
  for (const node of file.nodes) {
    const text = await (await fetch(node.metrics)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith('ballast_node_request_duration_seconds_count')) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (line.includes('op="read"')) total.reads += value;
      if (line.includes('op="write"')) total.writes += value;
    }
  }
  return total;
}

/** sha256 per chunk that holds data, read from the node over the data plane. */
async function replicaChunks(
  file: ClusterFile,
  address: string,
  nodeId: string,
  volumeId: string,
): Promise<Array<[number, string]>> {
  const client = await DataPlaneClient.connect({
    host: '127.0.0.1',
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    clusterId: file.clusterId,
    clientId: 'test-verifier',
    secret: file.dataPlaneSecret,
    expectedNodeId: nodeId,
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
  });
  try {
    const map = await client.getChunkMap(volumeId);
    const out: Array<[number, string]> = [];
    const zero = Buffer.alloc(map.chunkSizeBytes);
    for (const entry of map.chunks) {
      if (entry.generation === 0 || entry.hole) continue;
      const chunk = await client.readChunk(volumeId, entry.index);
      if (chunk.data === null || chunk.data.equals(zero.subarray(0, chunk.data.length))) continue;
      out.push([entry.index, createHash('sha256').update(chunk.data).digest('hex')]);
    }
    return out.sort((a, b) => a[0] - b[0]);
  } finally {
    client.destroy();
  }
}

if (process.getuid?.() !== 0) {
  t.fail('this test runs the agent as root (it serves NBD sockets under its run dir)');
} else {
  t.test("the agent's embedded node under faults", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'embedded-node-'));
    const clusterFile = join(dir, 'cluster.json');
    const cluster = ['--cluster', clusterFile];
    t.teardown(async () => {
      await ballast(['dev', 'down', '--dir', dir]);
      try {
        const f = JSON.parse(readFileSync(clusterFile, 'utf8')) as ClusterFile;
        for (const p of [...f.meta, ...f.nodes, ...f.agents]) {
          if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
        }
      } catch {
        // no cluster file: nothing started
      }
      if (t.passing()) rmSync(dir, { recursive: true, force: true });
      else t.comment(`cluster dir kept: ${dir}`);
    });
    const up = await ballast([
      'dev',
      'up',
      '--dir',
      dir,
      '--meta',
      '1',
      '--nodes',
      '2',
      '--agent',
      '--embed-node',
      '--plugin-socket',
      join(dir, 'plugin.sock'),
      '--json',
    ]);
    t.equal(up.code, 0, up.stderr);
    const file = JSON.parse(readFileSync(clusterFile, 'utf8')) as ClusterFile;
    t.equal(file.agents[0]?.embeddedNode, 'host1', 'the agent runs node host1');
    const nodesOut = JSON.parse(
      (await ok(t, await ballast(['node', 'ls', '--json', ...cluster]), 'node ls')).stdout,
    ) as Array<{ id: string; state: string; address: string; labels: Record<string, string> }>;
    const nodes = new Map(nodesOut.map((n) => [n.id, n]));
    t.same([...nodes.keys()].sort(), ['host1', 'n1', 'n2'], 'three nodes, one inside the agent');
    t.equal(
      nodes.get('host1')?.labels.host,
      'host1',
      "the embedded node carries the agent's host label",
    );

    const inspect = async (): Promise<VolumeView> =>
      JSON.parse(
        (await ballast(['volume', 'inspect', 'v1', '--json', ...cluster])).stdout,
      ) as VolumeView;
    const inSync = (v: VolumeView): string[] =>
      v.replicas
        .filter((r) => r.role === 'in-sync')
        .map((r) => r.nodeId)
        .sort();

    await ok(
      t,
      await ballast(['volume', 'create', 'v1', '--size', '256MiB', '--replicas', '3', ...cluster]),
      'create',
    );
    const uri = (
      await ok(t, await ballast(['volume', 'attach', 'v1', ...cluster]), 'attach')
    ).stdout.trim();
    t.same(inSync(await inspect()), ['host1', 'n1', 'n2'], 'a replica on every node');

    // Reads come from the replica inside the agent: no read request reaches n1 or n2.
    const pattern = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5e 0 8M', uri]);
    t.equal(pattern.code, 0, pattern.stderr);
    const before = await dataPlaneRequests(file);
    t.ok(before.writes > 0, `the writes reached n1 and n2 over the data plane (${before.writes})`);
    const readBack = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0x5e 0 8M', uri]);
    t.equal(readBack.code, 0, readBack.stderr);
    t.notMatch(readBack.stdout, /Pattern verification failed/, 'the pattern reads back');
    t.equal(
      (await dataPlaneRequests(file)).reads,
      before.reads,
      'no read went over the data plane',
    );

    // (a) A remote node is SIGKILLed under fio verify: fio goes on, n1 leaves the in-sync set;
    // restarted, it returns (within the grace) and is rebuilt by the engine.
    const fio = new FioLoop(uri);
    try {
      await fio.more(1, 'a first fio verify run');
      await ok(t, await ballast(['dev', 'kill', 'n1', '--dir', dir]), 'kill n1');
      await waitFor(
        'n1 out of the in-sync set',
        async () => !inSync(await inspect()).includes('n1'),
        {
          timeoutMs: WAIT_MS,
          intervalMs: 250,
        },
      );
      t.pass('n1 left the in-sync set');
      await fio.more(1, 'fio verify goes on without n1');
      await ok(t, await ballast(['dev', 'restart', 'n1', '--dir', dir]), 'restart n1');
      await waitFor(
        'three in-sync replicas again',
        async () => inSync(await inspect()).length === 3,
        {
          timeoutMs: WAIT_MS,
          intervalMs: 250,
        },
      );
      t.pass('n1 is back in sync');
      await fio.more(1, 'fio verify after the rebuild');
    } finally {
      await fio.stop();
    }
    t.same(fio.failures, [], `fio verify never failed (${fio.runs} runs)`);
    const lastSeed = fio.runs;

    // (b) The agent is SIGKILLed mid-stream, its node with it. fio writes elsewhere meanwhile.
    const epochBefore = (await inspect()).attachment?.epoch ?? 0;
    const stream = run('fio', [
      '--name=stream',
      '--ioengine=nbd',
      `--uri=${uri}`,
      '--rw=randwrite',
      '--bs=4k',
      '--iodepth=16',
      `--offset=${64 * MiB}`,
      `--size=${32 * MiB}`,
      '--time_based',
      '--runtime=60',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await ok(t, await ballast(['dev', 'kill', 'agent', '--dir', dir]), 'kill the agent');
    const streamResult = await stream;
    t.not(streamResult.code, 0, 'the stream ends with an error when its agent dies');
    await ok(t, await ballast(['dev', 'restart', 'agent', '--dir', dir]), 'restart the agent');
    await waitFor(
      'the volume attached again at a newer epoch',
      async () => ((await inspect()).attachment?.epoch ?? 0) > epochBefore,
      { timeoutMs: WAIT_MS, intervalMs: 250 },
    );
    await waitFor('the export answers', async () => (await run('nbdinfo', [uri])).code === 0, {
      timeoutMs: WAIT_MS,
      intervalMs: 250,
    });
    t.pass('the next agent serves the volume again');

    const flushed = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0x5e 0 8M', uri]);
    t.equal(flushed.code, 0, flushed.stderr);
    t.notMatch(flushed.stdout, /Pattern verification failed/, 'the flushed pattern is intact');
    const verify = await run('fio', fioArgs(uri, lastSeed, ['--verify_only']));
    t.equal(verify.code, 0, `the last completed fio run verifies (${verify.stderr.slice(-2000)})`);

    const settled = await waitFor(
      'three in-sync replicas after the restart',
      async () => {
        const v = await inspect();
        return inSync(v).length === 3 ? v : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 250 },
    );
    await ok(
      t,
      await ballast(['volume', 'detach', 'v1', ...cluster]),
      'detach (flushes every replica)',
    );
    const images = new Map<string, Array<[number, string]>>();
    for (const id of inSync(settled!)) {
      images.set(id, await replicaChunks(file, nodes.get(id)!.address, id, settled!.id));
    }
    const reference = images.get('host1')!;
    t.ok(
      reference.length >= FIO_BYTES / (4 * MiB),
      `the embedded replica holds ${reference.length} chunks`,
    );
    for (const id of ['n1', 'n2']) {
      t.same(
        images.get(id),
        reference,
        `the replica on ${id} is byte-identical to the embedded one`,
      );
    }
  });
}
