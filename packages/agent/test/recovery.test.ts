// Agent restarts with real processes: the agent (agent-cli.js) is killed or stopped under a
// mounted volume and started again. With relays the mount survives and I/O issued while the
// agent was away completes; without them the mount is lost and cleaned up; half-done attaches
// and unknown leftovers are cleaned at start-up. Needs root, /dev/fuse and loop devices.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import {
  RawHttpClient,
  leftoversUnder,
  needsRoot,
  startAgentProcess,
  stopProcess,
  tempDir,
  type AgentProcess,
} from './helpers/env.js';

const NONE = { mounts: [], loops: [], processes: [] };

interface Dirs {
  dir: string;
  args: string[];
  socket: string;
}

function dirs(t: Test, extra: string[] = []): Dirs {
  const dir = tempDir(t);
  const socket = path.join(dir, 'plugin.sock');
  const args = [
    '--id',
    'h1',
    '--state-dir',
    path.join(dir, 'state'),
    '--run-dir',
    path.join(dir, 'run'),
    '--plugin-socket',
    socket,
    '--log-level',
    'warn',
    ...extra,
  ];
  return { dir, args, socket };
}

async function agent(t: Test, d: Dirs): Promise<{ proc: AgentProcess; client: RawHttpClient }> {
  const proc = await startAgentProcess(d.args);
  t.teardown(() => stopProcess(proc.child, 'SIGKILL'));
  const client = await RawHttpClient.connect(d.socket);
  t.teardown(() => client.close());
  return { proc, client };
}

async function call(
  client: RawHttpClient,
  endpoint: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const reply = await client.call(endpoint, body);
  const parsed = JSON.parse(reply.body) as Record<string, unknown>;
  if (reply.status !== 200) throw new Error(`${endpoint}: ${reply.status} ${reply.body}`);
  return parsed;
}

/** Writes a file and fsyncs it: it only returns once the data reached the volume's export. */
async function writeDurably(file: string, data: Buffer): Promise<void> {
  const handle = await fs.promises.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

if (needsRoot(t)) {
  t.test(
    'with relays, a mounted volume survives an agent SIGKILL and a SIGTERM restart',
    async (t) => {
      const d = dirs(t);
      let { proc, client } = await agent(t, d);
      await call(client, '/VolumeDriver.Create', { Name: 'pg', Opts: { size: '128MiB' } });
      const mounted = await call(client, '/VolumeDriver.Mount', { Name: 'pg', ID: 'container-1' });
      const mountpoint = mounted.Mountpoint as string;
      const before = randomBytes(4 * 1024 * 1024);
      await writeDurably(path.join(mountpoint, 'before'), before);

      await stopProcess(proc.child, 'SIGKILL');
      client.close();
      // The agent is gone: this write and fsync are held by the relay until an agent is back.
      const during = randomBytes(8 * 1024 * 1024);
      const pendingWrite = writeDurably(path.join(mountpoint, 'during'), during);
      ({ proc, client } = await agent(t, d));
      t.same(proc.ready.recovery, { kept: ['pg'], lost: [], cleaned: [] }, 'the mount was kept');
      await pendingWrite;
      t.pass('the fsync issued while the agent was down completed');
      t.equal(
        md5(await fs.promises.readFile(path.join(mountpoint, 'during'))),
        md5(during),
        'written data reads back',
      );
      t.equal(
        md5(await fs.promises.readFile(path.join(mountpoint, 'before'))),
        md5(before),
        'older data intact',
      );

      const second = await call(client, '/VolumeDriver.Mount', { Name: 'pg', ID: 'container-2' });
      t.equal(second.Mountpoint, mountpoint, 'a new container gets the same mount point');
      const get = await call(client, '/VolumeDriver.Get', { Name: 'pg' });
      t.match((get.Volume as Record<string, unknown>).Status, {
        mountRefs: 2,
        attachedTo: 'h1',
        mountedHere: true,
      });

      await stopProcess(proc.child, 'SIGTERM');
      client.close();
      ({ proc, client } = await agent(t, d));
      t.same(
        proc.ready.recovery,
        { kept: ['pg'], lost: [], cleaned: [] },
        'kept across a graceful restart too',
      );
      await writeDurably(path.join(mountpoint, 'after'), before);

      await call(client, '/VolumeDriver.Unmount', { Name: 'pg', ID: 'container-1' });
      t.ok(
        fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(mountpoint),
        'container-2 still holds it',
      );
      await call(client, '/VolumeDriver.Unmount', { Name: 'pg', ID: 'container-2' });
      const left = await leftoversUnder(d.dir);
      t.same(left.mounts, [], 'no mounts left');
      t.same(left.loops, [], 'no loop devices left');
      t.equal(left.processes.length, 1, 'only the agent itself is running');
      t.match(left.processes[0], /agent-cli\.js/);
      await stopProcess(proc.child);
    },
  );

  t.test(
    'without relays a restart loses the mount: reported, torn down, mountable again',
    async (t) => {
      const d = dirs(t, ['--no-relay']);
      let { proc, client } = await agent(t, d);
      await call(client, '/VolumeDriver.Create', { Name: 'nr', Opts: { size: '64MiB' } });
      const mountpoint = (await call(client, '/VolumeDriver.Mount', { Name: 'nr', ID: 'c1' }))
        .Mountpoint as string;
      const data = randomBytes(1024 * 1024);
      await writeDurably(path.join(mountpoint, 'kept'), data);
      await stopProcess(proc.child, 'SIGKILL');
      client.close();
      ({ proc, client } = await agent(t, d));
      const recovery = proc.ready.recovery as {
        lost: Array<{ volume: string; mountIds: string[] }>;
      };
      t.same(
        recovery.lost.map((l) => [l.volume, l.mountIds]),
        [['nr', ['c1']]],
        'the mount is reported lost',
      );
      const left = await leftoversUnder(d.dir);
      t.same(left.mounts, [], 'its mount was taken down');
      t.same(left.loops, [], 'its loop device was detached');
      t.same(
        await call(client, '/VolumeDriver.Unmount', { Name: 'nr', ID: 'c1' }),
        { Err: '' },
        "Docker's late Unmount succeeds",
      );
      const again = await call(client, '/VolumeDriver.Mount', { Name: 'nr', ID: 'c2' });
      t.equal(again.Mountpoint, mountpoint);
      t.equal(
        md5(await fs.promises.readFile(path.join(mountpoint, 'kept'))),
        md5(data),
        'fsynced data survived',
      );
      await call(client, '/VolumeDriver.Unmount', { Name: 'nr', ID: 'c2' });
      await stopProcess(proc.child);
      t.same(await leftoversUnder(d.dir), NONE, 'nothing left behind');
    },
  );

  t.test(
    'half-done attaches and leftovers without a state file are cleaned at start-up',
    async (t) => {
      const d = dirs(t);
      let { proc, client } = await agent(t, d);
      await call(client, '/VolumeDriver.Create', { Name: 'half', Opts: { size: '32MiB' } });
      await call(client, '/VolumeDriver.Create', { Name: 'orphan', Opts: { size: '32MiB' } });
      await call(client, '/VolumeDriver.Mount', { Name: 'half', ID: 'x' });
      await call(client, '/VolumeDriver.Mount', { Name: 'orphan', ID: 'y' });
      await stopProcess(proc.child, 'SIGKILL');
      client.close();
      // A crash in the middle of attaching 'half' (its record says attaching, no references), and
      // a state file that lost 'orphan' altogether.
      const stateFile = path.join(d.dir, 'state', 'mounts.json');
      const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as {
        volumes: Record<string, { phase: string; mountIds: Record<string, number> }>;
      };
      state.volumes.half!.phase = 'attaching';
      state.volumes.half!.mountIds = {};
      delete state.volumes.orphan;
      fs.writeFileSync(stateFile, JSON.stringify(state));
      ({ proc, client } = await agent(t, d));
      t.same(
        proc.ready.recovery,
        { kept: [], lost: [], cleaned: ['half', 'orphan'] },
        'both cleaned',
      );
      let left = await leftoversUnder(d.dir);
      t.same(
        [left.mounts, left.loops, left.processes.length],
        [[], [], 1],
        'only the agent is left',
      );
      for (const name of ['half', 'orphan']) {
        const get = await call(client, '/VolumeDriver.Get', { Name: name });
        t.match(
          (get.Volume as Record<string, unknown>).Status,
          { attachedTo: null },
          `${name}: attachment released`,
        );
      }
      await stopProcess(proc.child, 'SIGKILL');
      client.close();

      // An unreadable state file is moved aside; recovery then works from the system alone.
      fs.writeFileSync(stateFile, '{"version":1,"volu');
      ({ proc, client } = await agent(t, d));
      t.same(proc.ready.recovery, { kept: [], lost: [], cleaned: [] });
      t.ok(
        fs.readdirSync(path.join(d.dir, 'state')).some((f) => f.startsWith('mounts.json.corrupt-')),
        'the unreadable state file was kept aside',
      );
      await call(client, '/VolumeDriver.Mount', { Name: 'half', ID: 'z' });
      await call(client, '/VolumeDriver.Unmount', { Name: 'half', ID: 'z' });
      await stopProcess(proc.child);
      left = await leftoversUnder(d.dir);
      t.same(left, NONE, 'nothing left behind');
    },
  );
}
