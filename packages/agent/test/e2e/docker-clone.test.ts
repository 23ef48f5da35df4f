// A clone of an ext4 volume through Docker (issue 16): a container writes files and keeps
// appending to a log while the volume's snapshot is cut; `docker volume create --opt
// from-snapshot=` makes a clone; once its first copy is made, every replica of the clone holds
// exactly the snapshot's bytes (compared with the snapshot read from a node), the files a
// container finds in the clone match their checksums, and the clone's filesystem checks clean
// after that mount. The source snapshot, served read-only over NBD by the agent (`ballast
// snapshot attach`), mounts with `-o ro,noload` and its files check out.
//
// Needs root, docker.io (dockerd), busybox-static, /dev/fuse, loop devices, e2fsprogs.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { parseHostPort } from '@ballast/common';
import { DataPlaneClient } from '@ballast/dataplane';
import { NbdfuseLoopAttacher } from '../../src/attach.js';
import { adminCall } from '../helpers/admin.js';
import { CLUSTER_ID, SECRET, startCluster, type TestCluster } from '../helpers/cluster.js';
import { BUSYBOX, ensureDocker, importBusybox, type Dockerd } from '../helpers/docker.js';
import { needsRoot, run, waitFor } from '../helpers/env.js';

const DRIVER = `ballast-clone-${process.pid}`;
const IMAGE = `ballast-clone-${process.pid}:busybox`;
const MiB = 1024 * 1024;

async function ok(t: Test, docker: Dockerd, args: string[], what: string): Promise<string> {
  const result = await docker.run(args);
  t.equal(result.code, 0, `${what}${result.code === 0 ? '' : `: ${result.stderr.trim()}`}`);
  return result.stdout;
}

interface VolumeView {
  id: string;
  epoch: number;
  sizeBytes: number;
  state: string;
  seed?: unknown;
  replicas: Array<{ nodeId: string; role: string; incarnation?: number }>;
  snapshots?: Array<{ name: string; seq: number; state: string; nodeIds: string[] }>;
}

async function connect(c: TestCluster, nodeId: string): Promise<DataPlaneClient> {
  const { host, port } = parseHostPort(c.nodes.get(nodeId)!.endpoints.dataPlane!);
  return DataPlaneClient.connect({
    host,
    port,
    clusterId: CLUSTER_ID,
    clientId: 'clone-test',
    secret: SECRET,
    expectedNodeId: nodeId,
  });
}

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

t.test('docker volume create --opt from-snapshot: a clone of an ext4 volume', async (t) => {
  if (!needsRoot(t)) return;
  if (!fs.existsSync(BUSYBOX)) {
    t.fail(`${BUSYBOX} is missing (apt-get install busybox-static)`);
    return;
  }
  const c = await startCluster(t, { prefix: 'ballast-clone-' });
  const agent = await c.agent('hostA', [], {
    pluginSocket: path.join('/run/docker/plugins', `${DRIVER}.sock`),
  });
  const docker = await ensureDocker(c.dir);
  t.teardown(() => docker.stop());
  await importBusybox(docker, c.dir, IMAGE);
  t.teardown(() => docker.run(['rmi', '-f', IMAGE]));
  const writer = `ballast-clone-w-${process.pid}`;
  t.teardown(async () => {
    await docker.run(['rm', '-f', writer]);
    await docker.run(['volume', 'rm', '-f', 'clonedb']);
    await docker.run(['volume', 'rm', '-f', 'srcdb']);
  });
  t.ok(agent.pluginSocket.length > 0);

  await ok(
    t,
    docker,
    ['volume', 'create', '-d', DRIVER, '--opt', 'size=128MiB', '--opt', 'replicas=3', 'srcdb'],
    'create the source',
  );
  // Files with their checksums, then a log that keeps growing (fsynced) while the cut is made.
  await ok(
    t,
    docker,
    [
      'run',
      '-d',
      '--name',
      writer,
      '--network',
      'none',
      '-v',
      'srcdb:/data',
      IMAGE,
      'sh',
      '-c',
      'mkdir -p /data/files && for i in 1 2 3 4 5 6; do dd if=/dev/urandom of=/data/files/f$i bs=64k count=$((i*16)) 2>/dev/null; done && ' +
        'cd /data/files && md5sum f* > /data/sums && sync && touch /data/done && sync && ' +
        'i=0; while [ $i -lt 6000 ]; do echo "record $i" >> /data/log; sync; i=$((i+1)); done; sleep 600',
    ],
    'the writer',
  );
  await waitFor(
    async () => (await docker.run(['exec', writer, 'cat', '/data/done'])).code === 0,
    'the files to be written',
    120_000,
  );
  const snapshot = await c.api<{ state: string; seq: number; nodeIds: string[] }>(
    'POST',
    '/v1/volumes/srcdb/snapshots',
    { name: 'nightly' },
  );
  t.match(snapshot, { state: 'ready', seq: 1 }, 'cut while the log was being written');
  t.equal(snapshot.nodeIds.length, 3);
  const logAfter = await docker.run(['exec', writer, 'sh', '-c', 'wc -l < /data/log']);
  t.equal(logAfter.code, 0);
  await ok(t, docker, ['rm', '-f', writer], 'stop the writer');

  await ok(
    t,
    docker,
    ['volume', 'create', '-d', DRIVER, '--opt', 'from-snapshot=srcdb@nightly', 'clonedb'],
    'create the clone',
  );
  const clone = await (async () => {
    let last: VolumeView | undefined;
    await waitFor(
      async () => {
        last = await c.api<VolumeView>('GET', '/v1/volumes/clonedb');
        return last.state === 'healthy' && !last.seed;
      },
      'the clone to be copied and rebuilt',
      120_000,
    );
    return last!;
  })();
  t.equal(clone.sizeBytes, 128 * MiB, "the snapshot's size");

  // Every replica of the clone holds the snapshot's bytes.
  const src = await c.api<VolumeView>('GET', '/v1/volumes/srcdb');
  const holder = await connect(c, snapshot.nodeIds[0]!);
  t.teardown(() => holder.close());
  const parts: Buffer[] = [];
  for (let off = 0; off < clone.sizeBytes; off += 16 * MiB) {
    parts.push(await holder.readSnapshot(src.id, snapshot.seq, off, 16 * MiB));
  }
  const expected = md5(Buffer.concat(parts));
  for (const r of clone.replicas) {
    const client = await connect(c, r.nodeId);
    t.teardown(() => client.close());
    const session = await client.openSession({
      volumeId: clone.id,
      epoch: clone.epoch,
      incarnation: r.incarnation ?? 0,
    });
    const copy: Buffer[] = [];
    for (let off = 0; off < clone.sizeBytes; off += 16 * MiB) {
      copy.push(await session.read(off, 16 * MiB));
    }
    t.equal(
      md5(Buffer.concat(copy)),
      expected,
      `${r.nodeId}: the clone's device md5 is the snapshot's`,
    );
  }

  // A container finds the files, whole; the log holds a prefix of the records.
  const check = await docker.run([
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    'clonedb:/data',
    IMAGE,
    'sh',
    '-c',
    'cd /data/files && md5sum -c /data/sums && wc -l < /data/log',
  ]);
  t.equal(check.code, 0, `md5sum -c in the clone: ${check.stderr.trim()}`);
  t.match(check.stdout, /f6: OK/);
  const records = Number(check.stdout.trim().split('\n').pop());
  t.ok(
    records >= 0 && records <= Number(logAfter.stdout.trim()),
    `the clone's log (${records} records) is a prefix of the source's`,
  );

  // The source snapshot itself, served read-only by the agent, mounted like a user picking
  // files out of it: nbdfuse, a loop device, ext4 read-only without journal replay.
  const served = await adminCall(
    agent.adminSocket,
    'POST',
    '/v1/volumes/srcdb/snapshots/nightly/attach',
    {},
  );
  t.equal(served.status, 200, served.text);
  const attacher = new NbdfuseLoopAttacher({
    runDir: path.join(c.dir, 'snapshot-mount'),
    commandTimeoutMs: 30_000,
  });
  const mountPoint = path.join(c.dir, 'snapshot-files');
  fs.mkdirSync(mountPoint, { recursive: true });
  let kernel: Awaited<ReturnType<NbdfuseLoopAttacher['attach']>> | undefined;
  t.teardown(async () => {
    await run('umount', [mountPoint]);
    await attacher.detach('snap', kernel ?? {}).catch(() => undefined);
  });
  kernel = await attacher.attach({
    volume: 'snap',
    socketPath: served.body.socket as string,
    exportName: served.body.exportName as string,
    sizeBytes: served.body.sizeBytes as number,
    progress: async () => undefined,
  });
  const mounted = await run('mount', ['-o', 'ro,noload', kernel.devicePath, mountPoint]);
  t.equal(mounted.code, 0, `mount -o ro,noload the snapshot: ${mounted.stderr}`);
  const picked = await run('sh', ['-c', `cd ${mountPoint}/files && md5sum -c ../sums`]);
  t.equal(picked.code, 0, `the snapshot's files check out: ${picked.stdout}${picked.stderr}`);
  await run('umount', [mountPoint]);
  await attacher.detach('snap', kernel);
  kernel = undefined;
  const unserved = await adminCall(
    agent.adminSocket,
    'POST',
    '/v1/volumes/srcdb/snapshots/nightly/detach',
    {},
  );
  t.match(unserved.body, { detached: true });

  // After that mount (which replayed the journal), the clone's filesystem checks clean.
  await waitFor(
    async () =>
      (await c.api<VolumeView & { attachment: unknown }>('GET', '/v1/volumes/clonedb'))
        .attachment === null,
    'the clone to be detached',
    60_000,
  );
  const after = await c.api<VolumeView>('GET', '/v1/volumes/clonedb');
  const reader = await connect(c, after.replicas[0]!.nodeId);
  t.teardown(() => reader.close());
  const session = await reader.openSession({
    volumeId: after.id,
    epoch: after.epoch,
    incarnation: after.replicas[0]!.incarnation ?? 0,
  });
  const image = path.join(c.dir, 'clone.img');
  const fd = fs.openSync(image, 'w');
  try {
    for (let off = 0; off < after.sizeBytes; off += 16 * MiB) {
      fs.writeSync(fd, await session.read(off, 16 * MiB));
    }
  } finally {
    fs.closeSync(fd);
  }
  const fsck = await run('e2fsck', ['-f', '-n', image]);
  t.equal(fsck.code, 0, `e2fsck -n on the clone: ${fsck.stdout}${fsck.stderr}`);
});
