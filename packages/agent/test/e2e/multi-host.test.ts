// Cross-host proofs (issue 19) on testkit's HostLab: namespaced hosts on this machine. s1 runs
// the meta member and a storage node, s2 and s3 (and s4 in the last test) a storage node each,
// and the two compute hosts ca and cb a private dockerd and a Ballast agent each; every process
// is a real ballastd in its host's namespaces, talking over the lab network (10.x addresses),
// each agent's plugin socket in its own host's /run/docker/plugins. Writers in busybox containers
// append stamped records and fsync each one. A host "loses power" with killHost(silent): cut off
// the network first, so no FIN or RST leaves it, then every process of it SIGKILLed.
//
// 1. ca dies under its writer: `docker run` on cb is refused while meta still believes ca alive,
//    then takes the volume over without an operator once ca has been silent past meta's host
//    timeout (higher epoch: ca is fenced), with every acknowledged record. ca reboots: its agent
//    reports the dead mount and leaves cb's attachment alone; replicas end byte-identical.
// 2. Swarm: the service's task follows the volume on drain, then on its host's death.
// 3. A cut-off host's still-running writer is fenced: nothing it sends after the takeover lands.
// 4. A storage host dies under a writer: I/O goes on, the replica is replaced, the host returns.
//
// Needs root, docker.io, busybox-static, util-linux, nbdkit/libnbd-bin (nbdfuse), fuse3, loop
// devices.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { DataPlaneClient } from '@ballast/dataplane';
import {
  HostLab,
  busyboxRootfs,
  waitFor,
  type ManagedProcess,
  type ReadyEndpoints,
} from '@ballast/testkit';
import { needsRoot, run } from '../helpers/env.js';

const TOKEN = 'multi-host-test-admin-0123456789abcdef';
const JOIN_TOKEN = 'multi-host-test-join-0123456789abcdef';
const SECRET = 'multi-host-test-secret-0123456789abcdef';
const CLUSTER_ID = 'multi-host';
const IMAGE = 'ballast-mh:busybox';
const VOLUME = 'mhvol';
const META_PORT = 7300;
const NODE_PORT = 7400;
/**
 * Meta presumes a Docker host dead after this much silence (ballastd's default is 30 s; agents
 * beat every 1 s here). BALLAST_MH_HOST_TIMEOUT_S=30 measures the default.
 */
const HOST_TIMEOUT_S = Number(process.env.BALLAST_MH_HOST_TIMEOUT_S ?? 6);
/** Bound on the takeover wait: host timeout + attach + mkfs-free mount, with room for load. */
const TAKEOVER_BOUND_MS = 120_000;

/** Storage hosts: s1 also runs meta; node n<i> runs on s<i>. */
const storageHosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `s${i + 1}`);

interface BedOptions {
  /** Storage hosts (default 3). */
  storage?: number;
  agentArgs?: string[];
  nodeArgs?: string[];
}
const COMPUTE = { ca: 'host-a', cb: 'host-b' } as const;

// Appends stamped records, each written and fsynced through one descriptor (dd conv=fsync):
// "acked N" is printed only once fsync of record N returned success. Not `sync`: sync(2) returns
// no error, so a writer acknowledging on it counts records its dead volume never stored (the
// partition test saw exactly that). A failed record is reported and followed by a pause of 1 s.
// Bounded: at most 20,000 records.
const WRITER = (tag: string): string =>
  `i=0; while [ $i -lt 20000 ]; do i=$((i+1)); ` +
  `echo "rec ${tag} $i $(date +%s)" | dd of=/data/log oflag=append conv=notrunc,fsync status=none ` +
  `&& echo "acked ${tag} $i" || { echo "failed ${tag} $i"; sleep 1; }; done`;

interface Cluster {
  lab: HostLab;
  metaUrl: string;
  nodes: Map<string, string>;
  agents: Map<string, ManagedProcess>;
  api<T = Record<string, unknown>>(method: string, urlPath: string, body?: unknown): Promise<T>;
}

/** Meta gets the admin and the join token; nodes and agents only the join token. */
const metaEnv = {
  BALLAST_TOKEN: TOKEN,
  BALLAST_JOIN_TOKEN: JOIN_TOKEN,
  BALLAST_CLUSTER_ID: CLUSTER_ID,
  BALLAST_LOG_LEVEL: process.env.BALLAST_TEST_LOG_LEVEL ?? 'info',
};
const env = {
  BALLAST_TOKEN: JOIN_TOKEN,
  BALLAST_JOIN_TOKEN: JOIN_TOKEN,
  BALLAST_CLUSTER_ID: CLUSTER_ID,
  BALLAST_DATA_PLANE_SECRET: SECRET,
  BALLAST_LOG_LEVEL: process.env.BALLAST_TEST_LOG_LEVEL ?? 'info',
};

function agentProcess(
  lab: HostLab,
  host: 'ca' | 'cb',
  metaUrl: string,
  extraArgs: string[] = [],
): ManagedProcess {
  const dir = path.join(lab.hostDir(host), 'agent');
  return lab.ballastd(host, {
    role: 'agent',
    id: `agent-${host}`,
    env,
    readyTimeoutMs: 120_000,
    args: [
      '--id',
      COMPUTE[host],
      '--state-dir',
      dir,
      '--run-dir',
      path.join(dir, 'run'),
      '--mount-root',
      path.join(dir, 'mnt'),
      '--plugin-socket',
      path.join(lab.pluginsDir(host), 'ballast.sock'),
      '--ops-listen',
      `${lab.address(host)}:0`,
      '--meta',
      metaUrl,
      '--heartbeat-interval',
      '1s',
      ...extraArgs,
    ],
  });
}

/** Storage node n<i> on host s<i>, at a fixed data-plane address (it keeps it across restarts). */
function nodeProcess(
  lab: HostLab,
  host: string,
  metaUrl: string,
  extraArgs: string[] = [],
): ManagedProcess {
  const id = `n${host.slice(1)}`;
  return lab.ballastd(host, {
    role: 'node',
    id,
    env,
    readyTimeoutMs: 120_000,
    args: [
      '--id',
      id,
      '--data-dir',
      path.join(lab.hostDir(host), id),
      '--listen',
      `${lab.address(host)}:${NODE_PORT}`,
      '--ops-listen',
      `${lab.address(host)}:0`,
      '--meta',
      metaUrl,
      '--labels',
      `zone=zone-${host},host=${host}`,
      '--capacity',
      '4GiB',
      '--heartbeat-interval',
      '1s',
      '--scrub-rate',
      '0',
      ...extraArgs,
    ],
  });
}

async function startCluster(t: Test, lab: HostLab, options: BedOptions): Promise<Cluster> {
  const storage = storageHosts(options.storage ?? 3);
  const metaUrl = `http://${lab.address('s1')}:${META_PORT}`;
  const meta = lab.ballastd('s1', {
    role: 'meta',
    id: 'm1',
    env: metaEnv,
    readyTimeoutMs: 120_000,
    args: [
      '--id',
      'm1',
      '--data-dir',
      path.join(lab.hostDir('s1'), 'm1'),
      '--listen',
      `${lab.address('s1')}:${META_PORT}`,
      '--peers',
      `m1=${metaUrl}`,
      '--host-timeout',
      `${HOST_TIMEOUT_S}s`,
      '--control-interval',
      '1s',
    ],
  });
  t.teardown(() => meta.stop(5_000));
  await meta.start();
  const nodes = new Map<string, string>();
  await Promise.all(
    storage.map(async (host) => {
      const node = nodeProcess(lab, host, metaUrl, options.nodeArgs);
      t.teardown(() => node.stop(5_000));
      const ready = (await node.start()) as ReadyEndpoints;
      nodes.set(node.id, ready.dataPlane ?? `${lab.address(host)}:${NODE_PORT}`);
    }),
  );
  const api = async <T>(method: string, urlPath: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${metaUrl}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${urlPath}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  await waitFor(
    `${storage.length} storage nodes up in the map`,
    async () => {
      const list = await api<{ items: Array<{ state: string }> }>('GET', '/v1/nodes');
      return list.items.filter((n) => n.state === 'up').length === storage.length;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const agents = new Map<string, ManagedProcess>();
  for (const host of ['ca', 'cb'] as const) {
    const agent = agentProcess(lab, host, metaUrl, options.agentArgs);
    t.teardown(() => agent.stop(10_000));
    await agent.start();
    agents.set(host, agent);
  }
  return { lab, metaUrl, nodes, agents, api };
}

/** sha256 per non-zero chunk of a node's replica, read over the data plane from the root netns. */
async function replicaDigest(
  nodeId: string,
  address: string,
  volumeId: string,
): Promise<Map<number, string>> {
  const at = address.lastIndexOf(':');
  const client = await DataPlaneClient.connect({
    host: address.slice(0, at),
    port: Number(address.slice(at + 1)),
    clusterId: CLUSTER_ID,
    clientId: 'multi-host-verifier',
    secret: SECRET,
    expectedNodeId: nodeId,
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
  });
  try {
    const map = await client.getChunkMap(volumeId);
    const out = new Map<number, string>();
    for (const entry of map.chunks) {
      if (entry.hole) continue;
      const chunk = await client.readChunk(volumeId, entry.index);
      if (chunk.data === null || chunk.data.every((b) => b === 0)) continue;
      out.set(entry.index, createHash('sha256').update(chunk.data).digest('hex'));
    }
    return out;
  } finally {
    client.destroy();
  }
}

/** The highest N in "acked <tag> N" lines. */
function maxAcked(logText: string, tag: string): number {
  let max = 0;
  for (const m of logText.matchAll(new RegExp(`acked ${tag} (\\d+)`, 'g'))) {
    max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** The writer's stdout as dockerd stored it (json-file), read from the disk of a dead host. */
function containerLogOnDisk(lab: HostLab, host: string, id: string): string {
  const file = path.join(lab.hostDir(host), 'docker-data', 'containers', id, `${id}-json.log`);
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { log: string }).log)
      .join('');
  } catch {
    return '';
  }
}

/** Record numbers of `tag` in the log file's text, in file order. */
function records(text: string, tag: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(new RegExp(`^rec ${tag} (\\d+) \\d+$`, 'gm')))
    out.push(Number(m[1]));
  return out;
}

interface VolumeView {
  id: string;
  epoch: number;
  attachment?: { host: string; epoch: number } | null;
  replicas: Array<{ nodeId: string; role: string }>;
}

/** Every replica of a detached volume in sync and byte-identical, read over the data plane. */
async function replicasIdentical(t: Test, c: Cluster, name: string): Promise<void> {
  const vol = await c.api<VolumeView>('GET', `/v1/volumes/${name}`);
  t.equal(vol.replicas.filter((r) => r.role === 'in-sync').length, 3, '3 in-sync replicas');
  const digests = await Promise.all(
    vol.replicas.map(async (r) => replicaDigest(r.nodeId, c.nodes.get(r.nodeId)!, vol.id)),
  );
  const [first, ...rest] = digests;
  t.ok(first!.size > 0, `replica of ${vol.replicas[0]!.nodeId} holds ${first!.size} chunks`);
  for (const [i, d] of rest.entries()) {
    t.same(
      [...d.entries()].sort(),
      [...first!.entries()].sort(),
      `${vol.replicas[i + 1]!.nodeId} identical`,
    );
  }
}

/** The lab with the image loaded and the cluster running; undefined (the test failed) without root or tools. */
async function bed(
  t: Test,
  options: BedOptions = {},
): Promise<{ lab: HostLab; c: Cluster } | undefined> {
  if (!needsRoot(t)) return undefined;
  for (const tool of ['dockerd', 'docker', 'nsenter', 'unshare', 'nbdfuse']) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) {
      t.fail(`${tool} is missing (apt-get install docker.io util-linux libnbd-bin)`);
      return undefined;
    }
  }
  await HostLab.removeStale();
  const lab = await HostLab.create({
    hosts: [...storageHosts(options.storage ?? 3), 'ca', 'cb'],
    dockerHosts: ['ca', 'cb'],
  });
  // Registered first, so it runs last: the processes' own teardowns stop them gracefully before.
  t.teardown(() => lab.destroy());
  t.teardown(() => {
    if (!t.passing()) {
      for (const host of lab.hosts) {
        const logs = path.join(lab.hostDir(host), 'logs');
        for (const f of fs.existsSync(logs) ? fs.readdirSync(logs) : []) {
          if (f.startsWith('dockerd')) continue;
          const text = fs.readFileSync(path.join(logs, f), 'utf8');
          t.comment(`===== ${host}/${f}\n${text.split('\n').slice(-40).join('\n')}`);
        }
      }
    }
  });
  const rootfs = await busyboxRootfs(lab.dir);
  await lab.importImage(rootfs, IMAGE);
  const c = await startCluster(t, lab, options);
  return { lab, c };
}

t.test('a volume follows its container to another host when its host dies', async (t) => {
  const setUp = await bed(t);
  if (setUp === undefined) return;
  const { lab, c } = setUp;

  const created = await lab.tryDocker('ca', [
    'volume',
    'create',
    '-d',
    'ballast',
    '--opt',
    'size=256MiB',
    '--opt',
    'replicas=3',
    VOLUME,
  ]);
  t.ok(created.ok, `volume created on ca: ${created.error ?? 'ok'}`);
  const writerA = (
    await lab.docker('ca', [
      'run',
      '-d',
      '--name',
      'writer',
      '--network',
      'none',
      '--volume-driver',
      'ballast',
      '-v',
      `${VOLUME}:/data`,
      IMAGE,
      'sh',
      '-c',
      WRITER('A'),
    ])
  ).stdout.trim();
  const before = await c.api<VolumeView>('GET', `/v1/volumes/${VOLUME}`);
  t.equal(before.attachment?.host, 'host-a', 'attached to host-a');
  const epochA = before.attachment!.epoch;
  await waitFor(
    'the writer on ca to ack 30 records',
    async () => maxAcked((await lab.docker('ca', ['logs', 'writer'])).stdout, 'A') >= 30,
    { timeoutMs: 120_000, intervalMs: 500 },
  );

  // Power cut on ca.
  const ackedSeen = maxAcked((await lab.docker('ca', ['logs', 'writer'])).stdout, 'A');
  const killedAt = Date.now();
  const { killed } = await lab.killHost('ca', { silent: true });
  const ackedBeforeKill = Math.max(
    ackedSeen,
    maxAcked(containerLogOnDisk(lab, 'ca', writerA), 'A'),
  );
  t.comment(`ca killed (${killed} processes) after ${ackedBeforeKill} acknowledged records`);
  t.same(lab.processesOf('ca'), [], 'nothing of ca runs');

  // cb: `docker run` with the same volume, no operator. While meta still hears ca as alive (its
  // last heartbeat is recent), the attach is refused naming the holder.
  const early = await lab.tryDocker('cb', [
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    `${VOLUME}:/data`,
    IMAGE,
    'true',
  ]);
  const earlyMs = Date.now() - killedAt;
  if (earlyMs < HOST_TIMEOUT_S * 1000 - 1500) {
    t.notOk(early.ok, `refused ${earlyMs} ms after the kill: host-a is not yet presumed dead`);
    t.match(early.error ?? '', /host-a/, 'naming host-a');
  } else {
    // A machine this loaded says nothing about the refusal; the takeover below still counts.
    t.comment(`the first docker run on cb ended ${earlyMs} ms after the kill: refusal not checked`);
  }
  let attempts = 1;
  await waitFor(
    'cb to take the volume over',
    async () => {
      attempts++;
      const r = await lab.tryDocker('cb', [
        'run',
        '-d',
        '--name',
        'writer',
        '--network',
        'none',
        '--volume-driver',
        'ballast',
        '-v',
        `${VOLUME}:/data`,
        IMAGE,
        'sh',
        '-c',
        // The old records first, kept in the container's log, then the writer goes on.
        `cat /data/log > /tmp/seen; echo "seen $(wc -l < /data/log) lines"; ${WRITER('B')}`,
      ]);
      if (!r.ok) await lab.tryDocker('cb', ['rm', '-f', 'writer']);
      return r.ok;
    },
    { timeoutMs: TAKEOVER_BOUND_MS, intervalMs: 500 },
  );
  const usableMs = Date.now() - killedAt;
  t.comment(
    `volume usable on cb ${usableMs} ms after ca was killed (${attempts} docker run attempts; ` +
      `meta's host timeout ${HOST_TIMEOUT_S} s, agent heartbeat 1 s)`,
  );
  t.ok(usableMs >= HOST_TIMEOUT_S * 1000 - 1500, 'not before meta presumed host-a dead');
  const after = await c.api<VolumeView>('GET', `/v1/volumes/${VOLUME}`);
  t.equal(after.attachment?.host, 'host-b', 'attached to host-b now');
  t.ok(after.attachment!.epoch > epochA, `epoch bumped ${epochA} -> ${after.attachment!.epoch}`);

  await waitFor(
    "cb's writer going",
    async () => maxAcked((await lab.docker('cb', ['logs', 'writer'])).stdout, 'B') >= 10,
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  const seen = (await lab.docker('cb', ['exec', 'writer', 'cat', '/tmp/seen'])).stdout;
  const recsA = records(seen, 'A');
  t.ok(
    recsA.length >= ackedBeforeKill,
    `${recsA.length} records of A found, ${ackedBeforeKill} acked`,
  );
  t.same(
    recsA.slice(0, ackedBeforeKill),
    Array.from({ length: ackedBeforeKill }, (_, i) => i + 1),
    'every acknowledged record of A is there, in order, once',
  );
  t.same(
    recsA,
    Array.from({ length: recsA.length }, (_, i) => i + 1),
    'and nothing but a prefix of what A wrote',
  );

  // ca boots again: new mount namespace, dockerd (which knows the dead container), the agent.
  // The agent starts before dockerd, as a host's init must order them (see rebootHost).
  const rebootAt = Date.now();
  const agentA = agentProcess(lab, 'ca', c.metaUrl);
  t.teardown(() => agentA.stop(10_000));
  let agentReadyMs = 0;
  await lab.rebootHost('ca', {
    beforeDockerd: async () => {
      await agentA.start();
      agentReadyMs = Date.now() - rebootAt;
    },
  });
  t.comment(
    `ca back: agent ready ${agentReadyMs} ms, dockerd answering ${Date.now() - rebootAt} ms after the reboot began`,
  );
  t.ok(agentA.running, 'agent on ca running again');
  const recovery = fs
    .readFileSync(agentA.options.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"recovery done"'))
    .map((l) => JSON.parse(l) as { lost: string[]; cleaned: unknown[]; kept: string[] })
    .at(-1);
  t.comment(`agent on ca after the reboot: recovery ${JSON.stringify(recovery)}`);
  t.same(recovery?.kept, [], 'the agent on ca keeps no mount of the volume');
  t.ok(recovery?.lost.includes(VOLUME), 'and reports the mount it lost');
  const removed = await lab.tryDocker('ca', ['rm', '-f', 'writer']);
  t.ok(removed.ok, `the dead container on ca is removed: ${removed.error ?? 'ok'}`);
  const stillB = await c.api<VolumeView>('GET', `/v1/volumes/${VOLUME}`);
  t.same(
    stillB.attachment && { host: stillB.attachment.host, epoch: stillB.attachment.epoch },
    { host: 'host-b', epoch: after.attachment!.epoch },
    "ca's return leaves cb's attachment alone",
  );
  const refusedOnA = await lab.tryDocker('ca', [
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    `${VOLUME}:/data`,
    IMAGE,
    'true',
  ]);
  t.notOk(refusedOnA.ok, 'ca cannot mount it while cb writes: one writer');
  t.match(refusedOnA.error ?? '', /host-b/, 'naming host-b');
  const ackedB1 = maxAcked((await lab.docker('cb', ['logs', 'writer'])).stdout, 'B');
  await waitFor(
    "cb's writer still acking",
    async () => maxAcked((await lab.docker('cb', ['logs', 'writer'])).stdout, 'B') > ackedB1 + 5,
    { timeoutMs: 60_000, intervalMs: 500 },
  );

  // cb lets go (Unmount: a clean detach), then ca reads everything back.
  await lab.docker('cb', ['stop', '-t', '1', 'writer']);
  const ackedB = maxAcked((await lab.docker('cb', ['logs', 'writer'])).stdout, 'B');
  await lab.docker('cb', ['rm', 'writer']);
  await waitFor(
    'the volume detached',
    async () => !(await c.api<VolumeView>('GET', `/v1/volumes/${VOLUME}`)).attachment,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const finalLog = (
    await lab.docker('ca', [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${VOLUME}:/data`,
      IMAGE,
      'cat',
      '/data/log',
    ])
  ).stdout;
  const recsB = records(finalLog, 'B');
  t.ok(recsB.length >= ackedB, `ca sees ${recsB.length} records of B (${ackedB} acked)`);
  t.same(
    recsB,
    Array.from({ length: recsB.length }, (_, i) => i + 1),
    "B's records in order",
  );
  t.same(records(finalLog, 'A').slice(0, ackedBeforeKill).length, ackedBeforeKill, "and A's");

  await replicasIdentical(t, c, VOLUME);
  await lab.docker('ca', ['volume', 'rm', VOLUME]);
});

/** The running task's container of `service` on `host`, if any. */
async function taskContainer(lab: HostLab, host: string, service: string): Promise<string> {
  const out = await lab.docker(host, [
    'ps',
    '-q',
    '--no-trunc',
    '--filter',
    `label=com.docker.swarm.service.name=${service}`,
  ]);
  return out.stdout.trim().split('\n')[0] ?? '';
}

t.test('a Swarm service task moves on drain and on host loss, its volume with it', async (t) => {
  const setUp = await bed(t);
  if (setUp === undefined) return;
  const { lab, c } = setUp;
  // The agents answer before the join (formSwarm activates them), so both nodes advertise the
  // driver and Swarm may place the task on either.
  const swarm = await lab.formSwarm({ hosts: ['ca', 'cb'], managers: ['ca'] });
  // The task starts on ca (cb drained meanwhile), moves to cb when ca is drained, and comes
  // back to ca when cb is killed.
  await lab.docker(swarm.leader, ['node', 'update', '--availability', 'drain', 'cb']);
  const service = 'swwriter';
  const vol = 'swvol';
  const tag = '$(hostname)';
  await lab.docker(swarm.leader, [
    'service',
    'create',
    '--detach',
    '--name',
    service,
    '--replicas',
    '1',
    '--no-resolve-image',
    '--hostname',
    '{{.Node.Hostname}}',
    '--stop-grace-period',
    '10s',
    '--mount',
    `type=volume,source=${vol},target=/data,volume-driver=ballast,volume-nocopy=true,` +
      'volume-opt=size=256MiB,volume-opt=replicas=3',
    IMAGE,
    'sh',
    '-c',
    // SIGTERM ends the loop between records (sh as PID 1 ignores it without a trap).
    `trap 'exit 0' TERM; ${WRITER(tag)}`,
  ]);
  const running = async (): Promise<{ host: string; cid: string } | undefined> => {
    for (const host of ['ca', 'cb']) {
      const cid = await taskContainer(lab, host, service);
      if (cid !== '') return { host, cid };
    }
    return undefined;
  };
  const first = await waitFor('the task running', running, {
    timeoutMs: 120_000,
    intervalMs: 500,
  });
  const from = 'ca';
  const to = 'cb';
  t.equal(first.host, from, 'the task starts on ca');
  await lab.docker(swarm.leader, ['node', 'update', '--availability', 'active', 'cb']);
  await waitFor(
    `the writer on ${from} to ack 20 records`,
    async () => maxAcked((await lab.docker(from, ['logs', first.cid])).stdout, from) >= 20,
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const epochFrom = (await c.api<VolumeView>('GET', `/v1/volumes/${vol}`)).attachment?.epoch;
  t.equal(
    (await c.api<VolumeView>('GET', `/v1/volumes/${vol}`)).attachment?.host,
    COMPUTE[from],
    `attached to ${from}'s agent`,
  );

  const drainedAt = Date.now();
  await lab.docker(swarm.leader, ['node', 'update', '--availability', 'drain', from]);
  const second = await waitFor(
    `the task running on ${to}`,
    async () => {
      const cid = await taskContainer(lab, to, service);
      return cid === '' ? undefined : { host: to, cid };
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  await waitFor(
    `the writer on ${to} acking`,
    async () => maxAcked((await lab.docker(to, ['logs', second.cid])).stdout, to) >= 1,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  t.comment(
    `task moved ${from} -> ${to} and writes again ${Date.now() - drainedAt} ms after drain`,
  );
  const ackedFrom = maxAcked((await lab.docker(from, ['logs', first.cid])).stdout, from);
  const moved = await c.api<VolumeView>('GET', `/v1/volumes/${vol}`);
  t.equal(moved.attachment?.host, COMPUTE[to], `attached to ${to}'s agent`);
  t.ok((moved.attachment?.epoch ?? 0) > (epochFrom ?? Infinity), 'with a new epoch');
  const text = (await lab.docker(to, ['exec', second.cid, 'cat', '/data/log'])).stdout;
  const recsFrom = records(text, from);
  t.ok(recsFrom.length >= ackedFrom, `${recsFrom.length} records of ${from}, ${ackedFrom} acked`);
  t.same(
    recsFrom,
    Array.from({ length: recsFrom.length }, (_, i) => i + 1),
    `every record of ${from} there, in order, once`,
  );

  // cb loses power under the running task: Swarm notices the node Down and starts the task on
  // ca, whose agent takes the volume over once meta presumes host-b dead.
  await lab.docker(swarm.leader, ['node', 'update', '--availability', 'active', 'ca']);
  await waitFor(
    `the writer on ${to} to ack 20 records`,
    async () => maxAcked((await lab.docker(to, ['logs', second.cid])).stdout, to) >= 20,
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const ackedSeen = maxAcked((await lab.docker(to, ['logs', second.cid])).stdout, to);
  const killedAt = Date.now();
  await lab.killHost(to, { silent: true });
  const ackedTo = Math.max(ackedSeen, maxAcked(containerLogOnDisk(lab, to, second.cid), to));
  const third = await waitFor(
    `the task running on ${from} again`,
    async () => {
      const cid = await taskContainer(lab, from, service);
      return cid === '' ? undefined : cid;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  const startedMs = Date.now() - killedAt;
  await waitFor(
    `the writer on ${from} acking`,
    async () => (await lab.docker(from, ['logs', third])).stdout.includes(`acked ${from} 1\n`),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const writingMs = Date.now() - killedAt;
  const down = (await lab.swarmNodes(swarm.leader)).find((n) => n.hostname === to);
  t.equal(down?.status, 'Down', `${to} is Down in the swarm`);
  t.comment(
    `${to} killed: task container on ${from} after ${startedMs} ms, writing after ${writingMs} ms ` +
      `(${ackedTo} records acked on ${to})`,
  );
  const back = await c.api<VolumeView>('GET', `/v1/volumes/${vol}`);
  t.equal(back.attachment?.host, COMPUTE[from], `attached to ${from}'s agent again`);
  t.ok(
    (back.attachment?.epoch ?? 0) > (moved.attachment?.epoch ?? Infinity),
    'a new epoch: fenced',
  );
  const after = (await lab.docker(from, ['exec', third, 'cat', '/data/log'])).stdout;
  const recsTo = records(after, to);
  t.ok(recsTo.length >= ackedTo, `${recsTo.length} records of ${to}, ${ackedTo} acked`);
  t.same(
    recsTo,
    Array.from({ length: recsTo.length }, (_, i) => i + 1),
    `every acknowledged record of ${to} there, in order, once`,
  );
  t.same(records(after, from).slice(0, ackedFrom).length, ackedFrom, `and those of ${from}`);

  await lab.docker(swarm.leader, ['service', 'rm', service]);
  await waitFor(
    'the volume detached after the service went',
    async () => !(await c.api<VolumeView>('GET', `/v1/volumes/${vol}`)).attachment,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  await replicasIdentical(t, c, vol);
});

t.test("a cut-off host's writer is fenced: its late writes never land", async (t) => {
  const setUp = await bed(t);
  if (setUp === undefined) return;
  const { lab, c } = setUp;
  const vol = 'cutvol';
  await lab.docker('cb', [
    'volume',
    'create',
    '-d',
    'ballast',
    '--opt',
    'size=256MiB',
    '--opt',
    'replicas=3',
    vol,
  ]);
  await lab.docker('cb', [
    'run',
    '-d',
    '--name',
    'writer',
    '--network',
    'none',
    '-v',
    `${vol}:/data`,
    IMAGE,
    'sh',
    '-c',
    WRITER('B'),
  ]);
  const ackedB = async (): Promise<number> =>
    maxAcked((await lab.docker('cb', ['logs', 'writer'])).stdout, 'B');
  await waitFor('the writer on cb to ack 20 records', async () => (await ackedB()) >= 20, {
    timeoutMs: 120_000,
    intervalMs: 500,
  });
  const epochB = (await c.api<VolumeView>('GET', `/v1/volumes/${vol}`)).attachment!.epoch;

  // cb is cut off from every other host (its container keeps running, its dockerd answers the
  // test over its unix socket).
  const ackedAtCut = await ackedB();
  const cutAt = Date.now();
  await lab.isolate('cb');
  await waitFor(
    'ca to take the volume over',
    async () => {
      const r = await lab.tryDocker('ca', [
        'run',
        '-d',
        '--name',
        'writer',
        '--network',
        'none',
        '-v',
        `${vol}:/data`,
        IMAGE,
        'sh',
        '-c',
        `cat /data/log > /tmp/seen; ${WRITER('A')}`,
      ]);
      if (!r.ok) await lab.tryDocker('ca', ['rm', '-f', 'writer']);
      return r.ok;
    },
    { timeoutMs: TAKEOVER_BOUND_MS, intervalMs: 500 },
  );
  t.comment(`volume usable on ca ${Date.now() - cutAt} ms after cb was cut off`);
  const taken = await c.api<VolumeView>('GET', `/v1/volumes/${vol}`);
  t.equal(taken.attachment?.host, 'host-a', 'attached to host-a');
  t.ok(taken.attachment!.epoch > epochB, `epoch ${epochB} -> ${taken.attachment!.epoch}`);
  const seen = (await lab.docker('ca', ['exec', 'writer', 'cat', '/tmp/seen'])).stdout;
  const seenB = records(seen, 'B');
  const ackedBeforeTakeover = await ackedB();
  t.ok(
    seenB.length >= ackedBeforeTakeover,
    `ca found ${seenB.length} records of cb; cb had acked ${ackedBeforeTakeover} (${ackedAtCut} at the cut)`,
  );
  t.same(
    seenB,
    Array.from({ length: seenB.length }, (_, i) => i + 1),
    'in order, once',
  );
  const ackedA = async (): Promise<number> =>
    maxAcked((await lab.docker('ca', ['logs', 'writer'])).stdout, 'A');
  await waitFor('the writer on ca going', async () => (await ackedA()) >= 20, {
    timeoutMs: 60_000,
    intervalMs: 500,
  });

  // The cut heals while cb's writer still runs: its engine reaches the nodes again with the old
  // epoch and is refused; nothing it sends lands, nothing more is acknowledged to it.
  await lab.heal('cb');
  const healedAt = Date.now();
  const a0 = await ackedA();
  await waitFor(
    'the writer on ca acking 20 more after the heal',
    async () => (await ackedA()) >= a0 + 20,
    {
      timeoutMs: 60_000,
      intervalMs: 500,
    },
  );
  // Give cb's engine time to retry (its replica timeout is 15 s) before looking.
  while (Date.now() - healedAt < 20_000) await new Promise((r) => setTimeout(r, 500));
  const ackedBFinal = await ackedB();
  t.equal(ackedBFinal, ackedBeforeTakeover, 'cb acknowledged nothing after ca took over');
  t.comment(
    `cb acked ${ackedBFinal}: ${ackedBFinal - ackedAtCut} after the cut began, before the takeover`,
  );
  const logB = (await lab.docker('cb', ['logs', 'writer'])).stdout;
  const failedB = [...logB.matchAll(/failed B \d+/g)].length;
  t.comment(
    `cb's writer after the heal: ${failedB} records failed, last line ${JSON.stringify(logB.trim().split('\n').at(-1))}`,
  );
  const rmB = await lab.tryDocker('cb', ['rm', '-f', 'writer']);
  t.ok(rmB.ok, `cb's stale container removed: ${rmB.error ?? 'ok'}`);
  const still = await c.api<VolumeView>('GET', `/v1/volumes/${vol}`);
  t.same(
    still.attachment && { host: still.attachment.host, epoch: still.attachment.epoch },
    { host: 'host-a', epoch: taken.attachment!.epoch },
    "cb letting go leaves ca's attachment alone",
  );

  await lab.docker('ca', ['stop', '-t', '1', 'writer']);
  const finalA = await ackedA();
  await lab.docker('ca', ['rm', 'writer']);
  await waitFor(
    'the volume detached',
    async () => !(await c.api<VolumeView>('GET', `/v1/volumes/${vol}`)).attachment,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const finalLog = (
    await lab.docker('cb', [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${vol}:/data`,
      IMAGE,
      'cat',
      '/data/log',
    ])
  ).stdout;
  t.same(
    records(finalLog, 'B'),
    seenB,
    "cb's records are exactly those ca found: no late write landed",
  );
  const recsA = records(finalLog, 'A');
  t.ok(recsA.length >= finalA, `${recsA.length} records of ca, ${finalA} acked`);
  t.same(
    recsA,
    Array.from({ length: recsA.length }, (_, i) => i + 1),
    "ca's in order, once",
  );
  t.equal(
    finalLog.split('\n').filter((l) => l !== '' && !/^rec [AB] \d+ \d+$/.test(l)).length,
    0,
    'no torn or foreign line in the file',
  );
  await replicasIdentical(t, c, vol);
});

t.test('a storage host dies under a writer: I/O goes on, the replica is replaced', async (t) => {
  // Four storage hosts, so the lost replica has somewhere to go; a short replica timeout in the
  // engine and a short replacement grace in meta keep the test short.
  const setUp = await bed(t, { storage: 4, agentArgs: ['--replica-timeout', '3s'] });
  if (setUp === undefined) return;
  const { lab, c } = setUp;
  await c.api('PATCH', '/v1/settings', { replicaReplacementGraceMs: 2_000 });
  const vol = 'lossvol';
  await lab.docker('ca', [
    'volume',
    'create',
    '-d',
    'ballast',
    '--opt',
    'size=256MiB',
    '--opt',
    'replicas=3',
    vol,
  ]);
  await lab.docker('ca', [
    'run',
    '-d',
    '--name',
    'writer',
    '--network',
    'none',
    '-v',
    `${vol}:/data`,
    IMAGE,
    'sh',
    '-c',
    WRITER('A'),
  ]);
  const logA = async (): Promise<string> => (await lab.docker('ca', ['logs', 'writer'])).stdout;
  await waitFor('the writer to ack 20 records', async () => maxAcked(await logA(), 'A') >= 20, {
    timeoutMs: 120_000,
    intervalMs: 500,
  });
  const before = await c.api<VolumeView>('GET', `/v1/volumes/${vol}`);
  const lostNode = before.replicas[before.replicas.length - 1]!.nodeId;
  const lostHost = `s${lostNode.slice(1)}`;
  t.not(lostHost, 's1', 'the lost host is not the meta host');
  const spare = [...c.nodes.keys()].find((id) => !before.replicas.some((r) => r.nodeId === id))!;

  const ackedAtKill = maxAcked(await logA(), 'A');
  const killedAt = Date.now();
  await lab.killHost(lostHost, { silent: true });
  // Writes stall for at most about the replica timeout, then go on with two replicas.
  let flowingMs = 0;
  await waitFor(
    'the writer acking again',
    async () => {
      if (maxAcked(await logA(), 'A') < ackedAtKill + 5) return false;
      flowingMs = Date.now() - killedAt;
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  let replacedMs = 0;
  const replaced = await waitFor(
    `a third in-sync replica on ${spare}`,
    async () => {
      const v = await c.api<VolumeView>('GET', `/v1/volumes/${vol}`);
      const inSync = v.replicas.filter((r) => r.role === 'in-sync').map((r) => r.nodeId);
      if (inSync.length !== 3 || inSync.includes(lostNode)) return undefined;
      replacedMs = Date.now() - killedAt;
      return inSync;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  t.comment(
    `${lostHost} (${lostNode}) killed: writes flowing again after ${flowingMs} ms (engine ` +
      `replica timeout 3 s), in-sync on ${replaced.sort().join(', ')} after ${replacedMs} ms ` +
      `(replacement grace 2 s)`,
  );
  t.ok(replaced.includes(spare), `the replacement is on ${spare}`);
  t.notMatch(await logA(), /failed A/, 'no write of the container failed');

  // The storage host comes back: its node rejoins with its stale copy, which the map no longer
  // lists as a replica.
  const node = nodeProcess(lab, lostHost, c.metaUrl);
  t.teardown(() => node.stop(5_000));
  await lab.rebootHost(lostHost, { beforeDockerd: () => node.start() });
  await waitFor(
    `${lostNode} up again`,
    async () => {
      const list = await c.api<{ items: Array<{ id: string; state: string }> }>('GET', '/v1/nodes');
      return list.items.find((n) => n.id === lostNode)?.state === 'up';
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const back = await c.api<VolumeView>('GET', `/v1/volumes/${vol}`);
  t.notOk(
    back.replicas.some((r) => r.nodeId === lostNode),
    `${lostNode} holds no replica of the volume after its return`,
  );

  await lab.docker('ca', ['stop', '-t', '1', 'writer']);
  const acked = maxAcked(await logA(), 'A');
  await lab.docker('ca', ['rm', 'writer']);
  await waitFor(
    'the volume detached',
    async () => !(await c.api<VolumeView>('GET', `/v1/volumes/${vol}`)).attachment,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const finalLog = (
    await lab.docker('cb', [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${vol}:/data`,
      IMAGE,
      'cat',
      '/data/log',
    ])
  ).stdout;
  const recs = records(finalLog, 'A');
  t.ok(recs.length >= acked, `${recs.length} records, ${acked} acked`);
  t.same(
    recs,
    Array.from({ length: recs.length }, (_, i) => i + 1),
    'in order, once',
  );
  await replicasIdentical(t, c, vol);
});
