// End to end with a real dockerd (protocols.md A.5): the agent serves a legacy plugin socket in
// /run/docker/plugins, and the docker CLI creates, lists, inspects, mounts (one and two
// containers at once) and removes a volume. No registry is reachable, so the image is a
// busybox-static rootfs imported with `docker import`.
//
// Needs root, dockerd (docker.io), busybox-static, /dev/fuse and loop devices. Uses the running
// daemon when /var/run/docker.sock answers; otherwise starts its own dockerd with its own data
// root, exec root, pidfile and socket, and stops it at the end (also on failure).
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { BUSYBOX, ensureDocker, importBusybox, type Dockerd } from '../helpers/docker.js';
import {
  RawHttpClient,
  cleanUpUnder,
  leftoversUnder,
  needsRoot,
  run,
  startAgentProcess,
  stopProcess,
  waitFor,
} from '../helpers/env.js';

const DRIVER = `ballast-test-${process.pid}`;
const PLUGIN_SOCKET = `/run/docker/plugins/${DRIVER}.sock`;
const IMAGE = `ballast-e2e-${process.pid}:busybox`;
let dockerd: Dockerd | undefined;

function docker(args: string[], timeoutMs = 120_000) {
  if (dockerd === undefined) throw new Error('no docker daemon yet');
  return dockerd.run(args, timeoutMs);
}

async function dockerOk(t: Test, args: string[], what: string): Promise<string> {
  const result = await docker(args);
  t.equal(result.code, 0, `${what}${result.code === 0 ? '' : `: ${result.stderr.trim()}`}`);
  return result.stdout;
}

t.test('docker volume create / ls / inspect / run / rm through the agent', async (t) => {
  if (!needsRoot(t)) return;
  for (const [tool, hint] of [
    ['dockerd', 'apt-get install docker.io'],
    ['docker', 'apt-get install docker.io'],
  ] as const) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) {
      t.fail(`${tool} is missing (${hint})`);
      return;
    }
  }
  if (!fs.existsSync(BUSYBOX)) {
    t.fail(`${BUSYBOX} is missing (apt-get install busybox-static)`);
    return;
  }
  const dir = fs.mkdtempSync('/tmp/ballast-agent-e2e-');
  t.teardown(async () => {
    await cleanUpUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const daemon = await ensureDocker(dir);
  dockerd = daemon;
  t.teardown(() => daemon.stop());

  // The image: a busybox-static rootfs.
  await importBusybox(daemon, dir, IMAGE);
  t.teardown(() => docker(['rmi', '-f', IMAGE]));

  // The agent, on a plugin socket of its own so the driver name cannot clash.
  t.notOk(fs.existsSync(PLUGIN_SOCKET), `${PLUGIN_SOCKET} is free`);
  const agent = await startAgentProcess([
    '--id',
    'e2e',
    '--state-dir',
    path.join(dir, 'agent-state'),
    '--run-dir',
    path.join(dir, 'agent-run'),
    '--plugin-socket',
    PLUGIN_SOCKET,
    '--log-level',
    'info',
    '--unmount-on-exit',
  ]);
  t.teardown(() => stopProcess(agent.child));
  const containers: string[] = [];
  t.teardown(async () => {
    for (const name of containers) await docker(['rm', '-f', name]);
    await docker(['volume', 'rm', '-f', 'e2evol']);
  });

  const created = await docker([
    'volume',
    'create',
    '-d',
    DRIVER,
    '--opt',
    'size=256MiB',
    '--opt',
    'replicas=1',
    'e2evol',
  ]);
  t.equal(created.code, 0, `volume create: ${created.stderr}`);
  t.equal(created.stdout.trim(), 'e2evol');
  const ls = await dockerOk(t, ['volume', 'ls', '--format', '{{.Driver}} {{.Name}}'], 'volume ls');
  t.ok(ls.split('\n').includes(`${DRIVER} e2evol`), 'ls shows the volume with our driver');
  const inspect = JSON.parse(
    await dockerOk(t, ['volume', 'inspect', 'e2evol'], 'volume inspect'),
  ) as Array<Record<string, unknown>>;
  t.match(inspect[0], {
    Name: 'e2evol',
    Driver: DRIVER,
    Scope: 'global',
    Options: { size: '256MiB', replicas: '1' },
    Status: { size: '256 MiB', replicas: '1', fs: 'ext4', mountedHere: false },
  });
  t.match(inspect[0]!.CreatedAt, /^\d{4}-\d\d-\d\dT/);

  const writer = await dockerOk(
    t,
    [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'e2evol:/data',
      IMAGE,
      'sh',
      '-c',
      'echo hello > /data/hello && dd if=/dev/urandom of=/data/blob bs=64k count=64 2>/dev/null && sync && md5sum /data/blob',
    ],
    'first container writes',
  );
  const sum = writer.trim().split(/\s+/)[0];
  t.match(sum, /^[0-9a-f]{32}$/);
  const mountedLine = agent
    .stderr()
    .split('\n')
    .find((l) => l.includes('"volume mounted"'));
  if (mountedLine !== undefined) {
    const info = JSON.parse(mountedLine) as Record<string, unknown> & { formatted: boolean };
    const steps = Object.entries(info)
      .filter(([k]) => k.endsWith('Ms'))
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    t.comment(`first mount under docker (attach, relay, nbdfuse + loop, mkfs, mount): ${steps}`);
    t.equal(info.formatted, true, 'formatted on first use');
  }
  const afterFirst = JSON.parse(
    await dockerOk(t, ['volume', 'inspect', 'e2evol'], 'inspect'),
  ) as Array<{
    Status: Record<string, unknown>;
  }>;
  t.equal(afterFirst[0]!.Status.mountedHere, false, 'unmounted when the container exited');

  const reader = await dockerOk(
    t,
    [
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'e2evol:/data',
      IMAGE,
      'sh',
      '-c',
      'cat /data/hello && md5sum /data/blob',
    ],
    'second container reads',
  );
  t.match(reader, /^hello\n/, 'file written by the first container');
  t.match(reader, new RegExp(`^${sum}\\s+/data/blob$`, 'm'), 'same checksum');

  // Two containers at once share one mount.
  for (const name of [`e2e-a-${process.pid}`, `e2e-b-${process.pid}`]) {
    containers.push(name);
    await dockerOk(
      t,
      [
        'run',
        '-d',
        '--name',
        name,
        '--network',
        'none',
        '-v',
        'e2evol:/data',
        IMAGE,
        'sh',
        '-c',
        `echo ${name} > /data/${name}; sleep 600`,
      ],
      `start ${name}`,
    );
  }
  const client = await RawHttpClient.connect(PLUGIN_SOCKET);
  t.teardown(() => client.close());
  const status = async (): Promise<Record<string, unknown>> => {
    const reply = await client.call('/VolumeDriver.Get', { Name: 'e2evol' });
    return (JSON.parse(reply.body) as { Volume: { Status: Record<string, unknown> } }).Volume
      .Status;
  };
  await waitFor(async () => (await status()).mountRefs === 2, 'two mount references', 60_000);
  t.match(
    await status(),
    { mountedHere: true, mountRefs: 2, attachedTo: 'e2e' },
    'one mount, two references',
  );
  const both = await dockerOk(
    t,
    ['exec', containers[0]!, 'sh', '-c', `cat /data/${containers[0]} /data/${containers[1]}`],
    'exec in the first container',
  );
  t.equal(both, `${containers[0]}\n${containers[1]}\n`, "each container sees the other one's file");
  await dockerOk(t, ['rm', '-f', containers[0]!], 'remove the first container');
  t.match(await status(), { mountedHere: true, mountRefs: 1 }, 'still mounted for the second');
  await dockerOk(t, ['rm', '-f', containers[1]!], 'remove the second container');
  containers.length = 0;
  t.match(await status(), { mountedHere: false, mountRefs: 0 }, 'unmounted after the last one');

  const bad = await docker(['volume', 'create', '-d', DRIVER, '--opt', 'sise=1G', 'e2ebad']);
  t.not(bad.code, 0, 'a bad option is refused');
  t.match(
    bad.stderr,
    /unknown option "sise"; valid options: size, replicas, fs, zone, chunkSize, replicaTimeout, labels/,
  );
  const badLs = await dockerOk(t, ['volume', 'ls', '-q'], 'ls');
  t.notOk(badLs.split('\n').includes('e2ebad'), 'and not created');

  await dockerOk(t, ['volume', 'rm', 'e2evol'], 'volume rm');
  const finalLs = await dockerOk(t, ['volume', 'ls', '-q'], 'ls');
  t.notOk(finalLs.split('\n').includes('e2evol'), 'gone from docker volume ls');
  const get = await client.call('/VolumeDriver.Get', { Name: 'e2evol' });
  t.match(JSON.parse(get.body).Err, /no volume named e2evol/, 'gone from the agent');

  await stopProcess(agent.child);
  const left = await leftoversUnder(path.join(dir));
  t.same(
    [left.mounts.filter((m) => !m.includes('/docker/')), left.loops],
    [[], []],
    'no agent mounts or loop devices left',
  );
});
