// Two hosts, one cluster: two agent processes (distinct host ids, state dirs, plugin and admin
// sockets) against one meta member and three storage nodes. One writer at a time: a second host
// is refused naming the holder, through the plugin protocol (as dockerd calls it) and through the
// admin API; a dead host's volume is taken over with force; a stale engine kept alive with
// SIGSTOP is fenced, and the bytes it tried to write never reach any replica.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { NbdClient } from '../../src/index.js';
import { adminCall } from '../helpers/admin.js';
import { startCluster, type HostAgent, type TestCluster } from '../helpers/cluster.js';
import { RawHttpClient, leftoversUnder, needsRoot, run } from '../helpers/env.js';

const MiB = 1024 * 1024;

interface VolumeView {
  id: string;
  sizeBytes: number;
}

async function pluginCall(
  agent: HostAgent,
  endpoint: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const client = await RawHttpClient.connect(agent.pluginSocket);
  try {
    const reply = await client.call(endpoint, body);
    return { status: reply.status, body: JSON.parse(reply.body) as Record<string, unknown> };
  } finally {
    client.close();
  }
}

/** Every replica's bytes, read straight from each node's chunk store. */
function replicaImages(c: TestCluster, volumeId: string, sizeBytes: number): Map<string, Buffer> {
  const images = new Map<string, Buffer>();
  for (const [id, node] of c.nodes) {
    if (!node.store.hasReplica(volumeId)) continue;
    const replica = node.store.replica(volumeId);
    const image = Buffer.alloc(sizeBytes);
    for (let offset = 0; offset < sizeBytes; offset += 4 * MiB) {
      replica.read(offset, Math.min(4 * MiB, sizeBytes - offset)).copy(image, offset);
    }
    images.set(id, image);
  }
  return images;
}

async function readAll(client: NbdClient, sizeBytes: number): Promise<Buffer> {
  const image = Buffer.alloc(sizeBytes);
  for (let offset = 0; offset < sizeBytes; offset += 4 * MiB) {
    (await client.read(offset, Math.min(4 * MiB, sizeBytes - offset))).copy(image, offset);
  }
  return image;
}

/** Settles within timeoutMs or fails the test with `what`. */
async function settle<T>(
  work: Promise<T>,
  what: string,
  timeoutMs = 60_000,
): Promise<PromiseSettledResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const [result] = await Promise.allSettled([Promise.race([work, timeout])]);
    return result!;
  } finally {
    clearTimeout(timer);
  }
}

function signal(agent: HostAgent, sig: NodeJS.Signals): void {
  agent.process.child.kill(sig);
}

if (needsRoot(t)) {
  t.test('a stale engine kept alive with SIGSTOP is fenced byte for byte', async (t) => {
    const c = await startCluster(t);
    const [a, b] = await Promise.all([c.agent('hostA'), c.agent('hostB')]);
    const created = await pluginCall(a, '/VolumeDriver.Create', {
      Name: 'st',
      Opts: { size: '64MiB', replicas: '3' },
    });
    t.equal(created.status, 200, JSON.stringify(created.body));
    const volume = await c.api<VolumeView>('GET', '/v1/volumes/st');

    const onA = await adminCall(a.adminSocket, 'POST', '/v1/volumes/st/attach', {});
    t.equal(onA.status, 200, onA.text);
    t.match(onA.body, { host: 'hostA', epoch: 1, uri: /^nbd\+unix:\/\/\/st\?socket=/ });
    const writer = await NbdClient.connect(onA.body.socket as string, 'st', 10_000);
    t.teardown(() => writer.close().catch(() => undefined));
    const kept = randomBytes(1 * MiB);
    await writer.write(1 * MiB, kept, false);
    await writer.flush();

    const refused = await adminCall(b.adminSocket, 'POST', '/v1/volumes/st/attach', {});
    t.equal(refused.status, 409, 'B cannot attach while A holds the volume');
    t.match(refused.body, {
      code: 'CONFLICT',
      message: /attached to host hostA .*ballast volume detach --force st/,
      details: { host: 'hostA' },
    });
    const mountRefused = await pluginCall(b, '/VolumeDriver.Mount', {
      Name: 'st',
      ID: 'f'.repeat(64),
    });
    t.equal(mountRefused.status, 500);
    t.match(mountRefused.body.Err, /attached to host hostA/, 'the plugin names the holder too');

    // A stops (its engine and data-plane sessions stay alive, frozen) with writes in flight.
    signal(a, 'SIGSTOP');
    const stale = randomBytes(1 * MiB);
    const staleOverwrite = writer.write(1 * MiB, stale, true);
    const staleNew = writer.write(8 * MiB, stale, true);
    staleOverwrite.catch(() => undefined);
    staleNew.catch(() => undefined);

    const taken = await adminCall(b.adminSocket, 'POST', '/v1/volumes/st/attach', { force: true });
    t.equal(taken.status, 200, taken.text);
    t.match(taken.body, { host: 'hostB', epoch: 2 });
    t.match(await c.api('GET', '/v1/volumes/st'), { epoch: 2, attachment: { host: 'hostB' } });
    for (const node of c.nodes.values()) {
      t.equal(node.replicas.highestEpoch(volume.id), 2, 'every replica moved to epoch 2');
    }
    const reader = await NbdClient.connect(taken.body.socket as string, 'st', 10_000);
    t.teardown(() => reader.close().catch(() => undefined));
    t.ok((await reader.read(1 * MiB, 1 * MiB)).equals(kept), "B reads A's flushed write");

    signal(a, 'SIGCONT');
    const overwrite = await settle(staleOverwrite, 'the stale overwrite');
    const fresh = await settle(staleNew, 'the stale write');
    t.equal(
      overwrite.status,
      'rejected',
      `A's overwrite fails (${String((overwrite as PromiseRejectedResult).reason)})`,
    );
    t.equal(
      fresh.status,
      'rejected',
      `A's new write fails (${String((fresh as PromiseRejectedResult).reason)})`,
    );
    const later = await settle(writer.write(16 * MiB, stale, true), 'a write after SIGCONT');
    t.equal(later.status, 'rejected', 'and so does every later write');

    const seen = await readAll(reader, volume.sizeBytes);
    t.ok(seen.subarray(1 * MiB, 2 * MiB).equals(kept), 'B still sees the old bytes');
    t.ok(
      seen.subarray(8 * MiB, 9 * MiB).equals(Buffer.alloc(1 * MiB)),
      'and zeroes where A wrote new',
    );
    const images = replicaImages(c, volume.id, volume.sizeBytes);
    t.equal(images.size, 3, 'three replicas');
    for (const [node, image] of images) {
      t.ok(image.equals(seen), `replica on ${node} is byte-identical to what B reads`);
      t.equal(image.indexOf(stale.subarray(0, 4096)), -1, `no byte of A's stale writes on ${node}`);
    }

    await reader.close();
    t.match((await adminCall(b.adminSocket, 'POST', '/v1/volumes/st/detach', {})).body, {
      detached: true,
      previousHost: 'hostB',
      flushed: true,
    });
    // A lets go of what it no longer holds without disturbing anyone.
    await writer.close().catch(() => undefined);
    const aDetach = await adminCall(a.adminSocket, 'POST', '/v1/volumes/st/detach', {});
    t.equal(aDetach.status, 200, aDetach.text);
    t.match(
      aDetach.body,
      { detached: true, previousHost: 'hostA', flushed: false, fenced: true },
      'A says it was fenced',
    );
    t.match(await c.api('GET', '/v1/volumes/st'), { attachment: null, epoch: 2 });
  });

  t.test(
    'plugin: B is refused naming A; A dies; B takes over with force and finds the data',
    async (t) => {
      const c = await startCluster(t);
      const [a, b] = await Promise.all([c.agent('hostA'), c.agent('hostB')]);
      const created = await pluginCall(a, '/VolumeDriver.Create', {
        Name: 'pg',
        Opts: { size: '256MiB', replicas: '3' },
      });
      t.equal(created.status, 200, JSON.stringify(created.body));
      const seenFromB = await pluginCall(b, '/VolumeDriver.Get', { Name: 'pg' });
      t.match(seenFromB.body, { Volume: { Name: 'pg' } }, 'global scope: B sees the volume');

      const mountA = await pluginCall(a, '/VolumeDriver.Mount', { Name: 'pg', ID: 'a'.repeat(64) });
      t.equal(mountA.status, 200, JSON.stringify(mountA.body));
      const pathA = mountA.body.Mountpoint as string;
      t.equal(pathA, path.join(a.mountRoot, 'pg'));
      const source = path.join(c.dir, 'payload.bin');
      fs.writeFileSync(source, randomBytes(12 * MiB));
      const write = await run('sh', [
        '-c',
        `mkdir -p "${pathA}/db" && cp "${source}" "${pathA}/db/payload.bin" && echo committed > "${pathA}/db/marker" && sync -f "${pathA}/db/marker"`,
      ]);
      t.equal(write.code, 0, `A writes and fsyncs: ${write.stderr}`);

      const refused = await pluginCall(b, '/VolumeDriver.Mount', {
        Name: 'pg',
        ID: 'b'.repeat(64),
      });
      t.equal(refused.status, 500, "B's Mount fails");
      t.match(
        refused.body.Err,
        /attached to host hostA \(epoch 1\).*if hostA is dead, `ballast volume detach --force pg` takes it over/,
      );
      const statusB = await adminCall(b.adminSocket, 'GET', '/v1/status');
      t.same(statusB.body.mounts, [], 'B recorded nothing');
      t.same(
        (await leftoversUnder(b.dir)).processes.filter((p) => !p.includes('agent-cli')),
        [],
        'B started no relay or nbdfuse',
      );
      t.match(await c.api('GET', '/v1/volumes/pg'), { attachment: { host: 'hostA', epoch: 1 } });

      // Host A dies: its agent, its relay and its nbdfuse, all at once.
      const hostA = (await leftoversUnder(a.dir)).processes.map((p) => Number(p.split(':')[0]));
      t.ok(hostA.length >= 3, `agent, relay and nbdfuse of A: ${hostA.length} processes`);
      for (const pid of hostA) process.kill(pid, 'SIGKILL');
      await new Promise<void>((resolve) => a.process.child.once('exit', () => resolve()));

      const stillRefused = await pluginCall(b, '/VolumeDriver.Mount', {
        Name: 'pg',
        ID: 'b'.repeat(64),
      });
      t.match(
        stillRefused.body.Err,
        /attached to host hostA/,
        'a dead host still holds it until forced',
      );
      const forced = await adminCall(b.adminSocket, 'POST', '/v1/volumes/pg/detach', {
        force: true,
      });
      t.equal(forced.status, 200, forced.text);
      t.same(forced.body, {
        volume: 'pg',
        detached: true,
        previousHost: 'hostA',
        forced: true,
        flushed: false,
        fenced: false,
        epoch: 2,
      });
      const mountB = await pluginCall(b, '/VolumeDriver.Mount', { Name: 'pg', ID: 'b'.repeat(64) });
      t.equal(mountB.status, 200, JSON.stringify(mountB.body));
      const pathB = mountB.body.Mountpoint as string;
      const check = await run('sh', [
        '-c',
        `cmp "${source}" "${pathB}/db/payload.bin" && cat "${pathB}/db/marker"`,
      ]);
      t.equal(check.code, 0, `every fsynced byte of A is on B: ${check.stderr}`);
      t.equal(check.stdout, 'committed\n');
      t.match(await c.api('GET', '/v1/volumes/pg'), {
        epoch: 3,
        attachment: { host: 'hostB', epoch: 3 },
      });

      // A comes back: its mount died with it, so it tears it down and leaves B's attachment alone.
      await a.restart();
      t.match(a.process.ready.recovery, { kept: [], lost: [{ volume: 'pg' }] });
      t.match(await c.api('GET', '/v1/volumes/pg'), {
        epoch: 3,
        attachment: { host: 'hostB', epoch: 3 },
      });
      t.same((await leftoversUnder(a.dir)).mounts, [], "A's dead mount is gone");
      const aMount = await pluginCall(a, '/VolumeDriver.Mount', { Name: 'pg', ID: 'c'.repeat(64) });
      t.match(aMount.body.Err, /attached to host hostB/, 'now A is the one refused');

      t.equal(
        (await pluginCall(b, '/VolumeDriver.Unmount', { Name: 'pg', ID: 'b'.repeat(64) })).status,
        200,
      );
      t.equal((await pluginCall(a, '/VolumeDriver.Remove', { Name: 'pg' })).status, 200);
      const left = await leftoversUnder(c.dir);
      t.same(left.mounts, [], 'no mounts left');
      t.same(left.loops, [], 'no loop devices left');
    },
  );

  t.test(
    "plugin: a frozen host is fenced; its container's fsync fails and nothing lands",
    async (t) => {
      const c = await startCluster(t);
      const [a, b] = await Promise.all([c.agent('hostA'), c.agent('hostB')]);
      t.equal(
        (
          await pluginCall(a, '/VolumeDriver.Create', {
            Name: 'fz',
            Opts: { size: '128MiB', replicas: '3' },
          })
        ).status,
        200,
      );
      const volume = await c.api<VolumeView>('GET', '/v1/volumes/fz');
      const mountA = await pluginCall(a, '/VolumeDriver.Mount', { Name: 'fz', ID: 'a'.repeat(64) });
      t.equal(mountA.status, 200, JSON.stringify(mountA.body));
      const pathA = mountA.body.Mountpoint as string;
      const first = await run('sh', ['-c', `echo from-a > "${pathA}/f1" && sync -f "${pathA}/f1"`]);
      t.equal(first.code, 0, first.stderr);

      // A freezes (agent stopped; its relay, nbdfuse and mounted filesystem still there) while
      // its container writes a file and fsyncs it: the write sits in A's page cache and the
      // fsync waits on the frozen agent.
      signal(a, 'SIGSTOP');
      const staleFile = path.join(c.dir, 'stale.bin');
      const stale = randomBytes(4 * MiB);
      fs.writeFileSync(staleFile, stale);
      const staleWrite = run(
        'dd',
        [`if=${staleFile}`, `of=${pathA}/stale.bin`, 'bs=1M', 'conv=fsync'],
        { timeoutMs: 300_000 },
      );
      const forced = await adminCall(b.adminSocket, 'POST', '/v1/volumes/fz/detach', {
        force: true,
      });
      t.match(forced.body, { detached: true, forced: true, previousHost: 'hostA' });
      const mountB = await pluginCall(b, '/VolumeDriver.Mount', { Name: 'fz', ID: 'b'.repeat(64) });
      t.equal(mountB.status, 200, JSON.stringify(mountB.body));
      const pathB = mountB.body.Mountpoint as string;
      const onB = await run('sh', [
        '-c',
        `cat "${pathB}/f1" && echo from-b > "${pathB}/f2" && sync -f "${pathB}/f2"`,
      ]);
      t.equal(onB.code, 0, onB.stderr);
      t.equal(onB.stdout, 'from-a\n', "B sees A's fsynced file");

      // A wakes up: its data path answers again, but every write it sends is fenced.
      signal(a, 'SIGCONT');
      const stale1 = await staleWrite;
      t.not(stale1.code, 0, `the fenced host's fsync fails: ${stale1.stderr.trim()}`);
      t.match(stale1.stderr, /Input\/output error/);
      const stale2 = await run('dd', [
        'if=/dev/zero',
        `of=${pathA}/later.bin`,
        'bs=64k',
        'count=4',
        'conv=fsync',
      ]);
      t.not(stale2.code, 0, `and so does a later write: ${stale2.stderr.trim()}`);

      t.equal(
        (await pluginCall(b, '/VolumeDriver.Unmount', { Name: 'fz', ID: 'b'.repeat(64) })).status,
        200,
      );
      // What B's engine serves, copied out by a client nobody here wrote, is a clean filesystem,
      // and every replica holds exactly those bytes.
      const raw = await adminCall(b.adminSocket, 'POST', '/v1/volumes/fz/attach', {});
      t.equal(raw.status, 200, raw.text);
      const image = path.join(c.dir, 'fz.img');
      const copy = await run('nbdcopy', [raw.body.uri as string, image], { timeoutMs: 120_000 });
      t.equal(copy.code, 0, copy.stderr);
      const fsck = await run('e2fsck', ['-fn', image]);
      t.equal(fsck.code, 0, `e2fsck finds the filesystem clean: ${fsck.stdout}${fsck.stderr}`);
      t.equal((await adminCall(b.adminSocket, 'POST', '/v1/volumes/fz/detach', {})).status, 200);
      const seen = fs.readFileSync(image);
      fs.rmSync(image);
      const images = replicaImages(c, volume.id, volume.sizeBytes);
      t.equal(images.size, 3);
      for (const [node, replica] of images) {
        t.ok(replica.equals(seen), `replica on ${node} is byte-identical to B's view`);
        for (let block = 0; block < stale.length; block += 1 * MiB) {
          t.equal(
            replica.indexOf(stale.subarray(block, block + 4096)),
            -1,
            `no block of A's stale file on ${node} (MiB ${block / MiB})`,
          );
        }
      }

      // A's Docker would unmount its container's volume: A tears its side down and lets go.
      const unmountA = await pluginCall(a, '/VolumeDriver.Unmount', {
        Name: 'fz',
        ID: 'a'.repeat(64),
      });
      t.equal(unmountA.status, 200, JSON.stringify(unmountA.body));
      t.match(await c.api('GET', '/v1/volumes/fz'), { attachment: null });
      const left = await leftoversUnder(c.dir);
      t.same(left.mounts, [], 'no mounts left');
      t.same(left.loops, [], 'no loop devices left');
    },
  );
}
