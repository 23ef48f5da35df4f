// The whole cluster end to end, with real processes only: `ballast dev up` starts 3 meta members
// (Raft), 3 storage nodes and an agent; this test talks to the agent's Docker plugin socket with
// a raw HTTP client, exactly as dockerd does, and checks that a 3-replica ext4 volume keeps
// every fsynced byte while a storage node is SIGKILLed mid-write, that the map drops the dead
// replica, that a fresh attach (reconcile) serves the same files, and that removing the volume
// deletes the replicas on the surviving nodes. Needs root, /dev/fuse, loop devices and nbdfuse.
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { isAlive, waitFor } from '@ballast/testkit';

const binDir = fileURLToPath(new URL('../../../bin/', import.meta.url));
const MiB = 1024 * 1024;

interface ClusterFile {
  token: string;
  meta: Array<{ api: string; pid: number }>;
  nodes: Array<{ id: string; pid: number; metrics: string }>;
  agents: Array<{ pid: number; pluginSocket: string; mountRoot: string; metrics: string }>;
}

function ballast(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(binDir, 'ballast.js'), ...args],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

interface PluginReply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * One plugin call the way dockerd's Go HTTP client sends it: POST, HTTP/1.1, a JSON body ending
 * in a newline (json.Encoder), the plugin Accept header, no Content-Type. Raw bytes over the unix
 * socket; the answer is parsed by hand (Content-Length or chunked).
 */
function pluginCall(socketPath: string, method: string, body: unknown): Promise<PluginReply> {
  const payload = Buffer.from(`${JSON.stringify(body)}\n`);
  const head =
    `POST /${method} HTTP/1.1\r\nHost: plugin\r\nUser-Agent: Go-http-client/1.1\r\n` +
    `Content-Length: ${payload.length}\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n` +
    `Connection: close\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const chunks: Buffer[] = [];
    socket.setTimeout(120_000, () => socket.destroy(new Error(`${method} timed out`)));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parseHttp(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    socket.write(Buffer.concat([Buffer.from(head), payload]));
  });
}

function parseHttp(raw: Buffer): PluginReply {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no HTTP response: ${JSON.stringify(raw.toString())}`);
  const lines = raw.subarray(0, end).toString().split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers = new Map(
    lines.slice(1).map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim()] as const;
    }),
  );
  let rest = raw.subarray(end + 4);
  if (headers.get('transfer-encoding') === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      const size = parseInt(rest.subarray(0, lineEnd).toString(), 16);
      if (!(size > 0)) break;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      rest = rest.subarray(lineEnd + 2 + size + 2);
    }
    rest = Buffer.concat(parts);
  } else if (headers.has('content-length')) {
    rest = rest.subarray(0, Number(headers.get('content-length')));
  }
  return { status, body: JSON.parse(rest.toString()) as Record<string, unknown> };
}

interface VolumeJson {
  replicas: Array<{ nodeId: string; role: string }>;
  staleReplicas: Array<{ nodeId: string }>;
  state: string;
  epoch: number;
  attachment: { host: string; epoch: number } | null;
}

async function metaGet(
  file: ClusterFile,
  path: string,
): Promise<{ status: number; body: VolumeJson }> {
  let lastError: unknown;
  for (const m of file.meta) {
    try {
      const response = await fetch(`${m.api}${path}`, {
        headers: { authorization: `Bearer ${file.token}` },
        signal: AbortSignal.timeout(10_000),
      });
      return { status: response.status, body: (await response.json()) as VolumeJson };
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function metricValue(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Writes a file of random bytes and fsyncs it; returns its sha256. */
async function writeFileSynced(path: string, bytes: number): Promise<string> {
  const data = randomBytes(bytes);
  const handle = await fs.promises.open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return createHash('sha256').update(data).digest('hex');
}

function sha256(path: string): string {
  return createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}

interface Leftovers {
  mounts: string[];
  loops: string[];
  processes: Array<{ pid: number; cmdline: string }>;
}

/** Mounts, loop devices and processes that refer to paths under `dir`. */
function leftoversUnder(dir: string): Leftovers {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${dir}/`));
  const losetup = spawnSync('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'], {
    encoding: 'utf8',
  });
  const loops =
    losetup.stdout.trim() === ''
      ? []
      : (
          JSON.parse(losetup.stdout) as {
            loopdevices: Array<{ name: string; 'back-file': string | null }>;
          }
        ).loopdevices
          .filter((d) => (d['back-file'] ?? '').startsWith(`${dir}/`))
          .map((d) => d.name);
  const processes: Leftovers['processes'] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(`${dir}/`) && isAlive(Number(entry))) {
        processes.push({ pid: Number(entry), cmdline });
      }
    } catch {
      // gone
    }
  }
  return { mounts, loops, processes };
}

/** Last-resort cleanup: unmount (deepest first, lazily if busy), free loops, kill processes. */
function cleanUpUnder(dir: string): void {
  for (let round = 0; round < 3; round++) {
    const left = leftoversUnder(dir);
    if (left.mounts.length + left.loops.length + left.processes.length === 0) return;
    for (const mount of left.mounts.sort((a, b) => b.length - a.length)) {
      if (spawnSync('umount', [mount], { timeout: 20_000 }).status !== 0) {
        spawnSync('umount', ['-l', mount], { timeout: 20_000 });
      }
    }
    for (const loop of left.loops) spawnSync('losetup', ['-d', loop], { timeout: 20_000 });
    for (const p of left.processes) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    spawnSync('sleep', ['0.3']);
  }
}

function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mount, losetup)';
  if (!fs.existsSync('/dev/fuse')) return 'needs /dev/fuse';
  for (const tool of ['nbdfuse', 'losetup', 'mkfs.ext4', 'fusermount3']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `needs ${tool}`;
  }
  return undefined;
}

const missing = missingPrerequisite();
if (missing !== undefined) {
  t.comment(`cluster e2e not run: ${missing}`);
  t.plan(0, missing);
} else {
  t.test('a 3-replica volume survives a storage node SIGKILLed mid-write', async (t) => {
    // A short path: unix socket paths of the agent live under it.
    const dir = fs.mkdtempSync(join(tmpdir(), 'bl-e2e-'));
    const pluginSocket = join(dir, 'plugin.sock');
    const mountIds: string[] = [];
    t.teardown(async () => {
      if (!t.passing()) {
        for (const log of ['agent', 'n1', 'n2', 'n3', 'm1']) {
          const path = join(dir, 'logs', `${log}.log`);
          if (fs.existsSync(path)) {
            const lines = fs.readFileSync(path, 'utf8').trimEnd().split('\n');
            t.comment(`===== ${log}.log (last 40 lines)\n${lines.slice(-40).join('\n')}`);
          }
        }
      }
      // Let the agent tear down what it can (writes back dirty data), then force the rest.
      for (const id of mountIds) {
        await pluginCall(pluginSocket, 'VolumeDriver.Unmount', { Name: 'e2e', ID: id }).catch(
          () => undefined,
        );
      }
      await ballast(['dev', 'down', '--dir', dir]);
      cleanUpUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const started = Date.now();
      try {
        return await work();
      } finally {
        timings[name] = Date.now() - started;
      }
    };

    const up = await timed('devUpMs', () =>
      ballast([
        'dev',
        'up',
        '--dir',
        dir,
        '--meta',
        '3',
        '--nodes',
        '3',
        '--agent',
        '--plugin-socket',
        pluginSocket,
        '--json',
      ]),
    );
    t.equal(up.code, 0, up.stderr);
    const file = JSON.parse(fs.readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterFile;

    const created = await timed('createMs', () =>
      pluginCall(pluginSocket, 'VolumeDriver.Create', {
        Name: 'e2e',
        Opts: { size: '256MiB', replicas: '3' },
      }),
    );
    t.same(created, { status: 200, body: { Err: '' } }, 'Create');
    const volume = (await metaGet(file, '/v1/volumes/e2e')).body;
    t.same(
      volume.replicas.map((r) => r.nodeId).sort(),
      ['n1', 'n2', 'n3'],
      'three replicas, one per node',
    );

    mountIds.push('c1');
    const mounted = await timed('firstMountMs', () =>
      pluginCall(pluginSocket, 'VolumeDriver.Mount', { Name: 'e2e', ID: 'c1' }),
    );
    t.equal(mounted.status, 200, JSON.stringify(mounted.body));
    const mountpoint = mounted.body.Mountpoint as string;
    t.equal(mountpoint, join(file.agents[0]!.mountRoot, 'e2e'));
    const fsType = spawnSync('findmnt', ['-n', '-o', 'FSTYPE', mountpoint], { encoding: 'utf8' });
    t.equal(fsType.stdout.trim(), 'ext4', 'an ext4 filesystem is mounted');

    // `ballast volume ls` says which host holds the volume and where it is mounted.
    const clusterFlag = ['--cluster', join(dir, 'cluster.json')];
    const ls = await ballast(['volume', 'ls', ...clusterFlag]);
    t.equal(ls.code, 0, ls.stderr);
    t.match(ls.stdout, /MOUNTED AT/, 'volume ls has a mount column');
    const row = ls.stdout.split('\n').find((l) => l.startsWith('e2e '));
    t.ok(row?.includes(mountpoint), `volume ls shows the mount path: ${row}`);
    const lsJson = JSON.parse((await ballast(['volume', 'ls', '--json', ...clusterFlag])).stdout);
    t.match(lsJson, [{ name: 'e2e', attachment: { host: 'host1', mountPath: mountpoint } }]);

    const sums = new Map<string, string>();
    await timed('writeBeforeKillMs', async () => {
      for (let i = 0; i < 24; i++) {
        sums.set(`before-${i}`, await writeFileSynced(join(mountpoint, `before-${i}`), 1 * MiB));
      }
    });

    // Keep writing (each file fsynced) while n2 is SIGKILLed; no write may fail.
    const victim = file.nodes.find((n) => n.id === 'n2')!;
    const AFTER_KILL = 24;
    let written = 0;
    const kill: { atWritten?: number } = {};
    let writeError: unknown;
    const writer = (async () => {
      try {
        for (let i = 0; i < 400; i++) {
          if (kill.atWritten !== undefined && written - kill.atWritten >= AFTER_KILL) break;
          sums.set(
            `during-${i}`,
            await writeFileSynced(join(mountpoint, `during-${i}`), 512 * 1024),
          );
          written += 1;
        }
      } catch (err) {
        writeError = err;
      }
    })();
    await waitFor('the writer to be under way', () => written >= 4 || writeError !== undefined, {
      timeoutMs: 60_000,
    });
    const killedAt = Date.now();
    kill.atWritten = written;
    process.kill(victim.pid, 'SIGKILL');
    await waitFor('n2 to die', () => !isAlive(victim.pid), { timeoutMs: 10_000 });
    await timed('writeAfterKillMs', () => writer);
    t.equal(writeError, undefined, `no write or fsync failed (${String(writeError)})`);
    t.equal(
      written - kill.atWritten,
      AFTER_KILL,
      `${AFTER_KILL} more files written and fsynced after the kill (${written} in this phase)`,
    );
    const dirHandle = await fs.promises.open(mountpoint, 'r');
    await dirHandle.sync();
    await dirHandle.close();

    const degraded = await timed('outOfSyncVisibleMs', () =>
      waitFor(
        'n2 to leave the in-sync set',
        async () => {
          const v = (await metaGet(file, '/v1/volumes/e2e')).body;
          return v.replicas.every((r) => r.nodeId !== 'n2') ? v : undefined;
        },
        { timeoutMs: 60_000 },
      ),
    );
    timings.killToOutOfSyncMs = Date.now() - killedAt;
    t.same(
      degraded.replicas.map((r) => [r.nodeId, r.role]),
      [
        ['n1', 'in-sync'],
        ['n3', 'in-sync'],
      ],
      'n1 and n3 stay in-sync',
    );
    t.match(degraded.staleReplicas, [{ nodeId: 'n2' }], 'n2 is recorded as stale');
    t.equal(degraded.state, 'degraded');
    t.ok(
      ((await metricValue(
        file.agents[0]!.metrics,
        'ballast_agent_volume_replicas_marked_out_of_sync_total',
      )) ?? 0) >= 1,
      "the agent's metrics count the replica it dropped",
    );

    const unmounted = await timed('unmountMs', () =>
      pluginCall(pluginSocket, 'VolumeDriver.Unmount', { Name: 'e2e', ID: 'c1' }),
    );
    t.same(unmounted, { status: 200, body: { Err: '' } }, 'Unmount');
    mountIds.splice(0);
    t.same(leftoversUnder(join(dir, 'agent', 'mounts')).mounts, [], 'nothing mounted any more');
    t.match((await metaGet(file, '/v1/volumes/e2e')).body, { attachment: null, epoch: 1 });

    mountIds.push('c2');
    const again = await timed('secondMountMs', () =>
      pluginCall(pluginSocket, 'VolumeDriver.Mount', { Name: 'e2e', ID: 'c2' }),
    );
    t.equal(again.status, 200, JSON.stringify(again.body));
    t.match(
      (await metaGet(file, '/v1/volumes/e2e')).body,
      { attachment: { host: 'host1', epoch: 2 }, epoch: 2 },
      'a new attach took a new epoch',
    );
    const bad = [...sums].filter(([name, sum]) => {
      try {
        return sha256(join(mountpoint, name)) !== sum;
      } catch {
        return true;
      }
    });
    t.same(bad, [], `all ${sums.size} files read back with their checksums`);
    const options = spawnSync('findmnt', ['-n', '-o', 'OPTIONS', mountpoint], { encoding: 'utf8' });
    t.match(options.stdout, /\brw\b/, 'the filesystem is still read-write (no I/O error remount)');

    // The agent dies (SIGKILL) under the mount: the relay holds the I/O, the next agent attaches
    // again (a new epoch, reconcile after the unclean stop) and the mount carries on.
    const restartedAgent = await timed('agentRestartMs', () =>
      ballast(['dev', 'restart', '--dir', dir, 'agent']),
    );
    t.equal(restartedAgent.code, 0, restartedAgent.stderr);
    t.match(
      (await metaGet(file, '/v1/volumes/e2e')).body,
      { attachment: { host: 'host1', epoch: 3 } },
      'the restarted agent attached again',
    );
    sums.set('after-restart', await writeFileSynced(join(mountpoint, 'after-restart'), 1 * MiB));
    t.equal(sha256(join(mountpoint, 'after-restart')), sums.get('after-restart'));
    t.equal(sha256(join(mountpoint, 'before-0')), sums.get('before-0'));
    t.pass('the mount survived the agent restart');
    const restartedFile = JSON.parse(
      fs.readFileSync(join(dir, 'cluster.json'), 'utf8'),
    ) as ClusterFile;
    file.agents = restartedFile.agents;

    t.same(
      await pluginCall(pluginSocket, 'VolumeDriver.Unmount', { Name: 'e2e', ID: 'c2' }),
      { status: 200, body: { Err: '' } },
      'Unmount again',
    );
    mountIds.splice(0);
    t.same(
      await pluginCall(pluginSocket, 'VolumeDriver.Remove', { Name: 'e2e' }),
      { status: 200, body: { Err: '' } },
      'Remove',
    );
    t.equal((await metaGet(file, '/v1/volumes/e2e')).status, 404, 'gone from the map');
    await timed('replicaDeleteMs', async () => {
      for (const node of file.nodes.filter((n) => n.id !== 'n2')) {
        await waitFor(
          `${node.id} to delete its replica`,
          async () => (await metricValue(node.metrics, 'ballast_node_provisioned_bytes')) === 0,
          { timeoutMs: 60_000 },
        );
      }
    });
    t.pass('the surviving nodes deleted their replicas');

    const down = await ballast(['dev', 'down', '--dir', dir]);
    t.equal(down.code, 0, down.stderr);
    t.same(leftoversUnder(dir), { mounts: [], loops: [], processes: [] }, 'nothing left behind');
    t.comment(`timings: ${JSON.stringify(timings)}`);
  });
}
