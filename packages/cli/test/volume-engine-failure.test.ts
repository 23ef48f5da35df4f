// `ballast volume inspect` of a volume whose engine failed (D22), with the real binaries of
// `ballast dev up --agent`: a 1-replica volume is attached through the agent, its only node is
// killed (`ballast dev kill`) while a client writes, the engine fails, and the agent tells meta
// with its heartbeat. The map still calls the volume healthy (the node has not been silent
// long enough to be down), so only the agent's report makes inspect explain it. The node is
// started again (`ballast dev restart`), the agent reopens the engine at a new epoch, and
// inspect shows that as a past event.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { NbdClient } from '@ballast/agent';
import type { VolumeExplanation, VolumeRecord } from '@ballast/meta';
import { isAlive, waitFor } from '@ballast/testkit';
import { ballast } from './helpers/exec.js';

const MiB = 1024 * 1024;

/** A promise that settles within `ms`, or rejects saying what did not. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

t.test(
  'volume inspect explains a failed engine, its reopen attempts, and the reopening',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'volume-engine-failure-'));
    let pids: number[] = [];
    t.teardown(async () => {
      await ballast(['dev', 'down', '--dir', dir]);
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    const up = await ballast([
      'dev',
      'up',
      '--dir',
      dir,
      '--meta',
      '1',
      '--nodes',
      '1',
      '--agent',
      '--plugin-socket',
      join(dir, 'plugin.sock'),
      '--json',
    ]);
    t.equal(up.code, 0, up.stderr);
    const clusterFile = join(dir, 'cluster.json');
    const file = JSON.parse(readFileSync(clusterFile, 'utf8'));
    pids = [...file.meta, ...file.nodes, ...file.agents].map((p: { pid: number }) => p.pid);
    const nodeId = file.nodes[0].id as string;
    const cluster = ['--cluster', clusterFile];
    const inspect = async (): Promise<string> => {
      const r = await ballast(['volume', 'inspect', 'v1', ...cluster]);
      t.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const inspectJson = async (): Promise<VolumeRecord & { explanation?: VolumeExplanation }> =>
      JSON.parse((await ballast(['volume', 'inspect', 'v1', '-o', 'json', ...cluster])).stdout);

    const created = await ballast([
      'volume',
      'create',
      'v1',
      '--size',
      '64MiB',
      '--replicas',
      '1',
      ...cluster,
    ]);
    t.equal(created.code, 0, created.stderr);
    const attached = await ballast(['volume', 'attach', 'v1', '--json', ...cluster]);
    t.equal(attached.code, 0, attached.stderr);
    const { socket, host } = JSON.parse(attached.stdout) as { socket: string; host: string };
    const client = await NbdClient.connect(socket, 'v1', 5_000);
    t.teardown(() => client.close().catch(() => undefined));
    const data = randomBytes(MiB);
    await client.write(2 * MiB, data, false);
    await client.flush();

    const healthy = await inspect();
    t.notMatch(healthy, /Engine|What happened/, 'a serving engine needs no explanation');

    // The only node dies; the next write fails, and so does the engine.
    t.equal((await ballast(['dev', 'kill', '--dir', dir, nodeId])).code, 0, 'node killed');
    const failedWrite = await within(
      30_000,
      'a write to the failed engine',
      client.write(0, Buffer.alloc(4096, 1), false).then(
        () => 'written',
        (err: unknown) => (err as Error).message,
      ),
    );
    t.not(failedWrite, 'written', `a write gets EIO (${failedWrite})`);
    let last = '';
    const failing = await waitFor(
      'inspect to show the failed engine with its next attempt',
      async () => {
        last = await inspect();
        return /Engine\s+failed on/.test(last) && /attempt \d+ is due at/.test(last)
          ? last
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    ).catch((err: unknown) => {
      t.comment(`the last inspect:\n${last}`);
      for (const log of [file.agents[0].id, file.nodes[0].id]) {
        t.comment(readFileSync(join(dir, 'logs', `${log}.log`), 'utf8').slice(-5000));
      }
      throw err;
    });
    t.comment(failing);
    t.match(
      failing,
      new RegExp(`State\\s+failed: the engine on host ${host} failed at epoch 1: volume v1: `),
    );
    t.match(
      failing,
      new RegExp(
        `Engine\\s+failed on ${host} at epoch 1 since \\S+ \\(\\d+s ago\\); \\d+ reopen attempts?, the next at \\S+ \\((in \\d+s|\\d+s ago)\\)`,
      ),
    );
    t.match(
      failing,
      /What happened:\n {2}- \S+ \(\d+s ago\): the engine on host \S+ failed at epoch 1: /,
    );
    t.match(
      failing,
      /What Ballast does next:\n {2}- the agent on \S+ reopens the engine at a new epoch, retrying with backoff .*attempt \d+ is due at \S+ \((in \d+s|\d+s ago)\)/,
    );
    t.match(
      failing,
      /What you can do:\n {2}- check the node holding its in-sync replica .*`ballast node inspect \S+`\n {2}- to stop the attempts .*`ballast volume detach v1 --host \S+`/,
    );
    const ls = await ballast(['volume', 'ls', ...cluster]);
    t.match(
      ls.stdout,
      /v1\s+64 MiB\s+1\/1\s+(healthy|faulted), engine (failed|recovering)\s+host1/,
      'ls says so',
    );
    const json = await inspectJson();
    // Meta marks the node down only after 15 s of silence; until then only the agent knows.
    t.match(failing, /the map has the volume healthy/, 'explained while the map says healthy');
    t.match(json.state, /^(healthy|faulted)$/, "the record's own state is the map's");
    t.match(json.explanation, {
      state: /^(failed|recovering)$/,
      engine: { host, epoch: 1, reason: /^volume v1: / },
    });
    t.ok((json.explanation?.engine?.attempts ?? 0) >= 0, 'json carries the attempts');
    const hostInspect = await ballast(['host', 'inspect', host, ...cluster]);
    t.match(
      hostInspect.stdout,
      /Engines\s+v1: (failed|recovering) at epoch 1 since .*\(volume v1: /,
      'host inspect lists the engine its agent reported',
    );

    // The node is back: the agent reopens the engine by itself, behind the same connection.
    t.equal((await ballast(['dev', 'restart', '--dir', dir, nodeId])).code, 0, 'node restarted');
    const reopened = await waitFor(
      'inspect to show the reopening as a past event',
      async () => {
        const out = await inspect();
        return /Engine\s+reopened on/.test(out) ? out : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    t.comment(reopened);
    const epoch = (await inspectJson()).epoch;
    t.ok(epoch > 1, `a new epoch (${epoch})`);
    t.match(reopened, /State\s+healthy/);
    t.match(
      reopened,
      new RegExp(
        `Engine\\s+reopened on ${host} \\S+ \\(\\d+s ago\\) at epoch ${epoch}, after \\d+ reopen attempts?; it had failed \\S+ \\(\\d+s ago\\) at epoch 1`,
      ),
    );
    t.match(
      reopened,
      new RegExp(
        `What happened:\\n {2}- [^\\n]*the engine on host ${host} failed at epoch 1: [^\\n]*\\n {2}- [^\\n]*: the agent on ${host} reopened the engine at epoch \\d+ after \\d+ attempts?`,
      ),
    );
    t.notMatch(reopened, /What Ballast does next/, 'nothing left for the agent to do');
    t.ok(
      (await within(10_000, 'a read', client.read(2 * MiB, MiB))).equals(data),
      'the same connection reads what was written before the failure',
    );
    await client.close();
    const detached = await ballast(['volume', 'detach', 'v1', ...cluster]);
    t.equal(detached.code, 0, detached.stderr);
  },
);
