// Snapshots (issue 16) with the real binaries against `ballast dev up --agent` (1 meta, 3 nodes,
// the agent): writes through NBD, `ballast snapshot create` makes the agent's engine cut the
// volume on every replica, later writes stay out of it, each node's copy of the snapshot is read
// over the data plane and compared byte for byte; bad input is refused with nothing changed;
// `snapshot rm` makes every node drop it. Then a snapshot of the detached volume, which the nodes
// take themselves, read back from each of them after a later write, and `volume revert` to it:
// every replica reads the snapshot again and the snapshot stays; then a clone of it, read on
// every replica and through NBD after the source snapshot is gone; `snapshot attach` serves the
// snapshot read-only over NBD.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseHostPort } from '@ballast/common';
import { DataPlaneClient } from '@ballast/dataplane';
import { isAlive, waitFor } from '@ballast/testkit';
import { ballast, run, type Result } from '../helpers/exec.js';

const MiB = 1024 * 1024;

async function ok(t: Test, result: Result, what: string): Promise<Result> {
  t.equal(result.code, 0, `${what}: exit 0 (stderr: ${result.stderr.trim()})`);
  return result;
}

async function qemuIo(t: Test, uri: string, commands: string[], what: string): Promise<void> {
  const result = await run('qemu-io', ['-f', 'raw', ...commands.flatMap((c) => ['-c', c]), uri]);
  t.equal(result.code, 0, `${what}: ${result.stderr}`);
  t.notMatch(result.stdout, /Pattern verification failed/, `${what}: patterns verified`);
}

t.test('snapshots of an attached volume through the CLI', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-e2e-'));
  let pids: number[] = [];
  const clients: DataPlaneClient[] = [];
  t.teardown(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await ballast(['dev', 'down', '--dir', dir]);
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const up = await ballast(['dev', 'up', '--dir', dir, '--meta', '1', '--nodes', '3', '--agent']);
  t.equal(up.code, 0, up.stderr);
  const clusterFile = join(dir, 'cluster.json');
  const file = JSON.parse(readFileSync(clusterFile, 'utf8'));
  pids = [...file.meta, ...file.nodes, ...file.agents].map((p: { pid: number }) => p.pid);
  const cluster = ['--cluster', clusterFile];

  await ok(
    t,
    await ballast(['volume', 'create', 'v1', '--size', '64MiB', '--replicas', '3', ...cluster]),
    'create',
  );
  const uri = (
    await ok(t, await ballast(['volume', 'attach', 'v1', ...cluster]), 'attach')
  ).stdout.trim();
  await qemuIo(t, uri, ['write -P 0xa1 0 4M', 'write -P 0xa2 16M 1M'], 'writes before');
  const created = await ok(
    t,
    await ballast(['snapshot', 'create', 'v1', 's1', ...cluster]),
    'snapshot create',
  );
  t.match(created.stdout, /snapshot v1@s1 taken: on n\d, n\d, n\d, writes paused [\d.]+ ms/);
  await qemuIo(t, uri, ['write -P 0xb1 0 2M', 'read -P 0xa1 2M 2M'], 'writes after');

  const listed = JSON.parse(
    (await ok(t, await ballast(['snapshot', 'ls', 'v1', '-o', 'json', ...cluster]), 'ls')).stdout,
  );
  t.equal(listed.items.length, 1);
  const s1 = listed.items[0];
  t.match(s1, { name: 's1', state: 'ready', seq: 1, sizeBytes: 64 * MiB });
  t.equal(s1.nodeIds.length, 3, 'every in-sync replica holds it');
  const inspected = await ok(
    t,
    await ballast(['snapshot', 'inspect', 'v1@s1', ...cluster]),
    'inspect',
  );
  t.match(inspected.stdout, /State\s+ready/);

  // Each node's copy, read over the data plane: the writes before the cut, none after it.
  const volumeId = JSON.parse(
    (await ok(t, await ballast(['volume', 'inspect', 'v1', '--json', ...cluster]), 'inspect'))
      .stdout,
  ).id as string;
  const copies: Buffer[] = [];
  for (const node of file.nodes as Array<{ id: string; address: string }>) {
    const { host, port } = parseHostPort(node.address);
    const client = await DataPlaneClient.connect({
      host,
      port,
      clusterId: file.clusterId,
      clientId: 'snapshot-test',
      secret: file.dataPlaneSecret,
    });
    clients.push(client);
    const head = await client.readSnapshot(volumeId, 1, 0, 4 * MiB);
    const mid = await client.readSnapshot(volumeId, 1, 16 * MiB, MiB);
    t.ok(head.equals(Buffer.alloc(4 * MiB, 0xa1)), `${node.id}: the first 4 MiB as before the cut`);
    t.ok(mid.equals(Buffer.alloc(MiB, 0xa2)), `${node.id}: the write at 16 MiB is in it`);
    copies.push(await client.readSnapshot(volumeId, 1, 0, 32 * MiB));
  }
  t.ok(
    copies.every((c) => c.equals(copies[0]!)),
    'the three copies are byte-identical',
  );

  // Metrics: each node counts the snapshot and the chunks it copied aside; the agent counts the
  // cut and its pause (op="snapshot").
  for (const node of file.nodes as Array<{ id: string; metrics: string }>) {
    const text = await (await fetch(node.metrics)).text();
    t.match(
      text,
      new RegExp(`ballast_node_snapshots\\{volume="${volumeId}"[^}]*\\} 1\\b`),
      `${node.id}: 1 snapshot`,
    );
    const copied = /ballast_node_snapshot_bytes\{volume="[^"]+"[^}]*\} (\d+)/.exec(text);
    t.ok(
      Number(copied?.[1]) >= 2 * MiB,
      `${node.id}: the 2 MiB written after the cut was kept aside`,
    );
  }
  const agentText = await (await fetch(file.agents[0].metrics)).text();
  t.match(
    agentText,
    /ballast_agent_volume_ops_total\{volume="v1",op="snapshot"[^}]*\} 1\b/,
    'the agent counts the cut',
  );
  t.match(
    agentText,
    /ballast_agent_volume_op_duration_seconds_count\{volume="v1",op="snapshot"[^}]*\} 1\b/,
  );

  // Bad input: a clear error, nothing changes.
  const dup = await ballast(['snapshot', 'create', 'v1', 's1', ...cluster]);
  t.not(dup.code, 0);
  t.match(dup.stderr, /already has a snapshot named s1/);
  const noAt = await ballast(['snapshot', 'inspect', 'v1', ...cluster]);
  t.not(noAt.code, 0);
  t.match(noAt.stderr, /VOLUME@SNAPSHOT/);
  const unknown = await ballast(['snapshot', 'create', 'nope', 'x', ...cluster]);
  t.not(unknown.code, 0);
  t.match(unknown.stderr, /volume nope does not exist/);
  const still = JSON.parse(
    (await ok(t, await ballast(['snapshot', 'ls', 'v1', '-o', 'json', ...cluster]), 'ls')).stdout,
  );
  t.equal(still.items.length, 1, 'still one snapshot');

  // Delete: every node drops its copy once it follows the map.
  await ok(t, await ballast(['snapshot', 'rm', 'v1@s1', '--yes', ...cluster]), 'rm');
  await waitFor(
    'every node to drop snapshot 1',
    async () => {
      for (const c of clients) {
        const gone = await c.readSnapshot(volumeId, 1, 0, 4096).then(
          () => false,
          () => true,
        );
        if (!gone) return false;
      }
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  t.pass('no node holds the deleted snapshot');
  await qemuIo(t, uri, ['read -P 0xb1 0 2M', 'read -P 0xa2 16M 1M'], 'the volume is intact');
  await ok(t, await ballast(['volume', 'detach', 'v1', ...cluster]), 'detach');

  // Detached: the nodes of the in-sync replicas take the snapshot themselves (seq 2).
  const cold = await ok(
    t,
    await ballast(['snapshot', 'create', 'v1', 's2', ...cluster]),
    'snapshot of the detached volume',
  );
  t.match(cold.stdout, /snapshot v1@s2 taken: on n\d, n\d, n\d \(detached: no writes to pause\)/);
  const s2 = JSON.parse(
    (
      await ok(
        t,
        await ballast(['snapshot', 'inspect', 'v1@s2', '-o', 'json', ...cluster]),
        'inspect',
      )
    ).stdout,
  );
  t.match(s2, { state: 'ready', seq: 2, host: null, waitingFor: [] });
  t.equal(s2.nodeIds.length, 3, 'every in-sync replica took it');
  // Written after the detached cut: must stay out of it.
  const again = (
    await ok(t, await ballast(['volume', 'attach', 'v1', ...cluster]), 'attach again')
  ).stdout.trim();
  await qemuIo(t, again, ['write -P 0xc1 0 1M'], 'a write after the detached cut');
  await ok(t, await ballast(['volume', 'detach', 'v1', ...cluster]), 'detach again');
  const coldCopies: Buffer[] = [];
  for (const c of clients) {
    coldCopies.push(await c.readSnapshot(volumeId, 2, 0, 32 * MiB));
  }
  const expected = Buffer.alloc(32 * MiB);
  expected.fill(0xb1, 0, 2 * MiB);
  expected.fill(0xa1, 2 * MiB, 4 * MiB);
  expected.fill(0xa2, 16 * MiB, 17 * MiB);
  coldCopies.forEach((copy, i) =>
    t.ok(copy.equals(expected), `node ${i + 1}: the detached snapshot holds the state at the cut`),
  );

  // Revert to s2: the write made after it is gone on every replica; s2 itself is kept.
  const refusedAttached = await ballast(['volume', 'attach', 'v1', ...cluster]);
  const attachedUri = refusedAttached.stdout.trim();
  const whileAttached = await ballast(['volume', 'revert', 'v1@s2', '--yes', ...cluster]);
  t.not(whileAttached.code, 0, 'an attached volume is not reverted');
  t.match(whileAttached.stderr, /detach it first/);
  await qemuIo(t, attachedUri, ['read -P 0xc1 0 1M'], 'nothing changed');
  await ok(t, await ballast(['volume', 'detach', 'v1', ...cluster]), 'detach for the revert');
  const reverted = await ok(
    t,
    await ballast(['volume', 'revert', 'v1@s2', '--yes', ...cluster]),
    'revert',
  );
  t.match(reverted.stdout, /volume v1 reverted to s2 \(epoch \d+\)/);
  const after = (
    await ok(t, await ballast(['volume', 'attach', 'v1', ...cluster]), 'attach after the revert')
  ).stdout.trim();
  await qemuIo(
    t,
    after,
    ['read -P 0xb1 0 2M', 'read -P 0xa1 2M 2M', 'read -P 0xa2 16M 1M', 'read -P 0 17M 1M'],
    'the volume reads the snapshot again',
  );
  await ok(t, await ballast(['volume', 'detach', 'v1', ...cluster]), 'detach at the end');
  const v = JSON.parse(
    (await ok(t, await ballast(['volume', 'inspect', 'v1', '--json', ...cluster]), 'inspect'))
      .stdout,
  );
  const liveCopies: Buffer[] = [];
  for (const [i, c] of clients.entries()) {
    const session = await c.openSession({
      volumeId,
      epoch: v.epoch,
      incarnation:
        v.replicas.find((r: { nodeId: string }) => r.nodeId === file.nodes[i].id)?.incarnation ?? 0,
    });
    liveCopies.push(await session.read(0, 32 * MiB));
    t.ok(
      (await c.readSnapshot(volumeId, 2, 0, 32 * MiB)).equals(expected),
      `node ${i + 1}: s2 is kept`,
    );
  }
  liveCopies.forEach((copy, i) =>
    t.ok(copy.equals(expected), `node ${i + 1}: the live replica reads the snapshot`),
  );

  // A clone of s2: one node copies the snapshot, the others rebuild from it; then it is an
  // independent volume (the snapshot may go) that reads what s2 read.
  const cloned = await ok(
    t,
    await ballast(['volume', 'create', 'v2', '--from-snapshot', 'v1@s2', ...cluster]),
    'clone',
  );
  t.match(cloned.stdout, /a clone of v1@s2: n\d copies it now/);
  const ready = await waitFor(
    'the clone to be healthy',
    async () => {
      const r = await ballast(['volume', 'inspect', 'v2', '--json', ...cluster]);
      const c = JSON.parse(r.stdout);
      return c.state === 'healthy' && !c.seed ? c : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  t.match(ready, { sizeBytes: 64 * MiB, source: { volume: 'v1', snapshot: 's2' }, seed: null });
  for (const [i, c] of clients.entries()) {
    const session = await c.openSession({
      volumeId: ready.id,
      epoch: ready.epoch,
      incarnation:
        ready.replicas.find((r: { nodeId: string }) => r.nodeId === file.nodes[i].id)
          ?.incarnation ?? 0,
    });
    t.ok(
      (await session.read(0, 32 * MiB)).equals(expected),
      `node ${i + 1}: the clone's replica reads the snapshot`,
    );
  }
  // The snapshot over NBD, read-only, from the agent (while the volume itself is detached).
  const served = await ok(
    t,
    await ballast(['snapshot', 'attach', 'v1@s2', ...cluster]),
    'snapshot attach',
  );
  const snapUri = served.stdout.trim();
  t.match(snapUri, /^nbd\+unix:\/\/\/v1%40s2\?socket=/);
  const readBack = await run('qemu-io', [
    '-f',
    'raw',
    '-r',
    '-c',
    'read -P 0xb1 0 2M',
    '-c',
    'read -P 0xa1 2M 2M',
    '-c',
    'read -P 0xa2 16M 1M',
    snapUri,
  ]);
  t.equal(readBack.code, 0, `read the snapshot over NBD: ${readBack.stderr}`);
  t.notMatch(readBack.stdout, /Pattern verification failed/, 'the snapshot over NBD reads s2');
  const denied = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0xee 0 4k', snapUri]);
  t.ok(
    denied.code !== 0 ||
      /failed|denied|read-only|Operation not permitted/i.test(denied.stdout + denied.stderr),
    `a write to the snapshot export is refused (${(denied.stdout + denied.stderr).trim().slice(0, 200)})`,
  );
  const stopped = await ok(
    t,
    await ballast(['snapshot', 'detach', 'v1@s2', ...cluster]),
    'snapshot detach',
  );
  t.match(stopped.stdout, /snapshot v1@s2 no longer served/);
  await ok(t, await ballast(['snapshot', 'rm', 'v1@s2', '--yes', ...cluster]), 'rm the source');
  const cloneUri = (
    await ok(t, await ballast(['volume', 'attach', 'v2', ...cluster]), 'attach the clone')
  ).stdout.trim();
  await qemuIo(
    t,
    cloneUri,
    ['read -P 0xb1 0 2M', 'read -P 0xa2 16M 1M', 'write -P 0xd1 0 1M', 'read -P 0xd1 0 1M'],
    'the clone reads the snapshot and takes writes',
  );
  await ok(t, await ballast(['volume', 'detach', 'v2', ...cluster]), 'detach the clone');
});
