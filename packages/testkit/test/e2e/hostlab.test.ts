// HostLab: several Docker hosts on this machine (network namespace + mount namespace + private
// dockerd each). Three hosts form a Swarm, a replicated service runs on them, each dockerd finds
// only the plugin sockets of its own host, a host cut off the network has its task moved, a
// killed host loses every process, and nothing is left once the lab is destroyed.
//
// Needs root, docker.io (dockerd 20.10+ and a docker CLI), util-linux nsenter/unshare and
// busybox-static.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { HOST_LAB_STATE_DIR, HostLab, busyboxRootfs, waitFor } from '../../src/index.js';

const missing = ['dockerd', 'docker', 'nsenter', 'unshare'].filter(
  (tool) => execFileSync('sh', ['-c', `command -v ${tool} || true`], { encoding: 'utf8' }) === '',
);
const skip =
  process.getuid?.() !== 0
    ? 'HostLab needs root'
    : missing.length > 0
      ? `missing: ${missing.join(', ')} (apt-get install docker.io util-linux)`
      : !existsSync('/bin/busybox')
        ? '/bin/busybox missing (apt-get install busybox-static)'
        : false;

const IMAGE = 'hostlab-busybox:test';

// A legacy volume plugin as small as dockerd accepts: every volume is a directory under its own.
const PLUGIN = `
const http = require('http'), fs = require('fs');
const [sock, root] = process.argv.slice(1);
const vols = new Map();
const answer = (url, req) => {
  switch (url) {
    case '/Plugin.Activate': return { Implements: ['VolumeDriver'] };
    case '/VolumeDriver.Capabilities': return { Capabilities: { Scope: 'local' } };
    case '/VolumeDriver.Create': fs.mkdirSync(root + '/' + req.Name, { recursive: true }); vols.set(req.Name, 1); return {};
    case '/VolumeDriver.Remove': vols.delete(req.Name); return {};
    case '/VolumeDriver.Get': return vols.has(req.Name) ? { Volume: { Name: req.Name } } : { Err: 'no such volume' };
    case '/VolumeDriver.List': return { Volumes: [...vols.keys()].map((Name) => ({ Name })) };
    case '/VolumeDriver.Path': case '/VolumeDriver.Mount': return { Mountpoint: root + '/' + req.Name };
    case '/VolumeDriver.Unmount': return {};
    default: return { Err: 'unsupported ' + url };
  }
};
http.createServer((q, s) => {
  let body = '';
  q.on('data', (d) => (body += d));
  q.on('end', () => s.end(JSON.stringify(answer(q.url, body ? JSON.parse(body) : {}))));
}).listen(sock, () => console.log('ready'));
`;

/** What the machine shows of a lab: namespaces, mounts, processes, cgroups, files. */
function traces(prefix: string, dir: string): string[] {
  const found: string[] = [];
  for (const ns of readdirSync('/run/netns'))
    if (ns.startsWith(`${prefix}-`)) found.push(`netns ${ns}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line.includes(dir)) found.push(`mount ${line.split(' ')[4]}`);
  }
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) found.push(`process ${pid} ${cmd.slice(0, 80)}`);
      const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      if (cg.includes(`ballast-hostlab-${prefix}-`)) found.push(`process ${pid} in a lab cgroup`);
    } catch {
      // exited meanwhile
    }
  }
  for (const h of readdirSync('/sys/fs/cgroup')) {
    for (const cg of safeList(`/sys/fs/cgroup/${h}`)) {
      if (cg.startsWith(`ballast-hostlab-${prefix}-`)) found.push(`cgroup ${h}/${cg}`);
    }
  }
  if (existsSync(dir)) found.push(`dir ${dir}`);
  if (existsSync(join(HOST_LAB_STATE_DIR, `${prefix}.json`))) found.push('state file');
  if (existsSync(`/run/ballast-lab/${prefix}.json`)) found.push('NetLab state file');
  return found;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function serviceTasks(
  lab: HostLab,
  via: string,
  service: string,
): Promise<Array<{ node: string; state: string }>> {
  const out = await lab.docker(via, [
    'service',
    'ps',
    service,
    '--filter',
    'desired-state=running',
    '--format',
    '{{.Node}} {{.CurrentState}}',
  ]);
  return out.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [node, state] = l.trim().split(/\s+/);
      return { node: node!, state: state! };
    });
}

t.test('a 3-host Swarm on namespaces, its faults and its cleanup', { skip }, async (t) => {
  await HostLab.removeStale();
  const work = mkdtempSync(join(tmpdir(), 'hostlab-test-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const started = Date.now();
  const lab = await HostLab.create({ hosts: ['h1', 'h2', 'h3'] });
  t.teardown(() => lab.destroy());
  const bootMs = Date.now() - started;
  t.comment(`lab ${lab.prefix}: 3 hosts with dockerd answering in ${bootMs} ms`);

  await t.test('each host has its own hostname, address and engine', async (t) => {
    const ids = new Set<string>();
    for (const h of lab.hosts) {
      t.equal((await lab.exec(h, ['hostname'])).stdout.trim(), h, `${h}: its own hostname`);
      const addr = (await lab.exec(h, ['ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout;
      t.match(addr, lab.address(h), `${h}: eth0 at ${lab.address(h)}`);
      ids.add((await lab.docker(h, ['info', '--format', '{{.ID}}'])).stdout.trim());
    }
    t.equal(ids.size, 3, 'three distinct engine ids');
    t.notOk(existsSync(join(lab.pluginsDir('h1'), 'x')), 'plugin dirs start empty');
  });

  await t.test('each dockerd sees only the plugins of its own host', async (t) => {
    const sock = join(lab.pluginsDir('h1'), 'probe1.sock');
    const plugin = lab.process('h1', {
      id: 'probe1',
      argv: [process.execPath, '-e', PLUGIN, sock, join(lab.hostDir('h1'), 'vols')],
      readyWhen: (line) => line === 'ready',
    });
    await plugin.start();
    const inH1 = await lab.tryDocker('h1', ['volume', 'create', '-d', 'probe1', 'v1']);
    t.ok(inH1.ok, `h1 uses its plugin: ${inH1.error ?? 'ok'}`);
    const inH2 = await lab.tryDocker('h2', ['volume', 'create', '-d', 'probe1', 'v1'], {
      timeoutMs: 60_000,
    });
    t.notOk(inH2.ok, 'h2 does not find it');
    t.match(inH2.error ?? '', /plugin "probe1" not found|probe1/, 'and says it is not found');
    const listed = (await lab.exec('h2', ['ls', '/run/docker/plugins'])).stdout.trim();
    t.equal(listed, '', "h2's /run/docker/plugins is empty");
    t.ok(existsSync('/run/docker/plugins/probe1.sock') === false, 'the machine does not see it');
    await lab.docker('h1', ['volume', 'rm', 'v1']);
    // The plugin keeps running until the lab goes: once activated, a plugin that stops answering
    // costs every `docker volume ls` on h1 about 15 s of dockerd retrying it (and formSwarm
    // lists volumes), socket file or not.
  });

  const rootfs = await busyboxRootfs(work);
  await lab.importImage(rootfs, IMAGE);

  const swarmStart = Date.now();
  const swarm = await lab.formSwarm();
  t.comment(`swarm of 3 formed in ${Date.now() - swarmStart} ms`);
  t.equal(swarm.leader, 'h1', 'h1 leads');
  t.same((await lab.swarmNodes('h1')).map((n) => `${n.hostname} ${n.status}`).sort(), [
    'h1 Ready',
    'h2 Ready',
    'h3 Ready',
  ]);

  await t.test('a replicated service runs on every host', async (t) => {
    await lab.docker('h1', [
      'service',
      'create',
      '--detach',
      '--name',
      'spread',
      '--replicas',
      '3',
      '--replicas-max-per-node',
      '1',
      '--no-resolve-image',
      '--stop-grace-period',
      '1s',
      IMAGE,
      'sleep',
      '3600',
    ]);
    const tasks = await waitFor(
      '3 running tasks of spread',
      async () => {
        const ts = await serviceTasks(lab, 'h1', 'spread');
        return ts.filter((x) => x.state === 'Running').length === 3 ? ts : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    t.same(tasks.map((x) => x.node).sort(), ['h1', 'h2', 'h3'], 'one task per host');
    await lab.docker('h1', ['service', 'rm', 'spread']);
  });

  await t.test('a host cut off the network has its task moved', async (t) => {
    await lab.docker('h1', [
      'service',
      'create',
      '--detach',
      '--name',
      'mover',
      '--replicas',
      '1',
      '--constraint',
      'node.role==worker',
      '--no-resolve-image',
      '--stop-grace-period',
      '1s',
      IMAGE,
      'sleep',
      '3600',
    ]);
    const [first] = await waitFor(
      'the mover task running',
      async () => {
        const ts = (await serviceTasks(lab, 'h1', 'mover')).filter((x) => x.state === 'Running');
        return ts.length === 1 ? ts : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const cut = first!.node;
    t.ok(cut === 'h2' || cut === 'h3', `runs on a worker (${cut})`);
    const other = cut === 'h2' ? 'h3' : 'h2';
    const cutAt = Date.now();
    await lab.isolate(cut);
    await waitFor(
      `the task running on ${other}`,
      async () =>
        (await serviceTasks(lab, 'h1', 'mover')).some(
          (x) => x.node === other && x.state === 'Running',
        ),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const movedMs = Date.now() - cutAt;
    t.comment(`task moved ${cut} -> ${other} ${movedMs} ms after the cut`);
    const down = (await lab.swarmNodes('h1')).find((n) => n.hostname === cut);
    t.equal(down?.status, 'Down', `${cut} is Down in the swarm`);
    const stillThere = await lab.docker(cut, ['ps', '-q', '--filter', 'name=mover']);
    t.not(stillThere.stdout.trim(), '', `the old container keeps running on the cut host ${cut}`);
    await lab.heal(cut);
    await waitFor(
      `${cut} Ready again`,
      async () => (await lab.swarmNodes('h1')).find((n) => n.hostname === cut)?.status === 'Ready',
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    await waitFor(
      `the stale container on ${cut} stopped`,
      async () =>
        (await lab.docker(cut, ['ps', '-q', '--filter', 'name=mover'])).stdout.trim() === '',
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    await lab.docker('h1', ['service', 'rm', 'mover']);
  });

  await t.test('a killed host loses every process, containers included', async (t) => {
    const cid = (
      await lab.docker('h3', ['run', '-d', '--network', 'none', IMAGE, 'sleep', '3600'])
    ).stdout.trim();
    t.match(cid, /^[0-9a-f]{64}$/, 'a container runs on h3');
    const before = lab.processesOf('h3');
    t.ok(before.length >= 4, `dockerd, containerd, a shim and the container (${before.length})`);
    const { killed } = await lab.killHost('h3', { silent: true });
    t.ok(killed >= before.length, `killed ${killed}`);
    const cut = (): number =>
      lab.net.faults().partitions.filter((p) => p.from === 'h3' || p.to === 'h3').length;
    t.ok(cut() > 0, 'a silent kill leaves h3 cut off');
    t.same(lab.processesOf('h3'), [], 'nothing of h3 runs');
    t.notOk(lab.dockerd('h3')?.running, 'its dockerd is down');
    const rebootAt = Date.now();
    await lab.rebootHost('h3');
    t.comment(`h3 rebooted: dockerd answers ${Date.now() - rebootAt} ms later`);
    t.equal(cut(), 0, 'and the reboot plugs it back in');
    const ps = await lab.docker('h3', ['ps', '-a', '--format', '{{.ID}} {{.Status}}']);
    t.match(ps.stdout, cid.slice(0, 12), 'the container is known after the reboot');
    t.notMatch(ps.stdout, /\bUp\b/, 'and not running');
  });

  await t.test('destroy leaves nothing behind', async (t) => {
    const { prefix, dir } = lab;
    t.ok(traces(prefix, dir).length > 0, 'the lab is visible before');
    const at = Date.now();
    await lab.destroy();
    t.comment(`destroyed in ${Date.now() - at} ms`);
    // Deleting a namespace removes its veths asynchronously; the namespaces themselves go at once.
    t.same(traces(prefix, dir), [], 'no namespace, mount, process, cgroup, file');
    t.notMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), prefix, 'ip netns');
  });
});

t.test(
  'a lab whose creator was SIGKILLed is removed by the next removeStale',
  { skip },
  async (t) => {
    const script = `
    import { HostLab, busyboxRootfs } from ${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)};
    const lab = await HostLab.create({ hosts: ['s1', 's2'] });
    await lab.importImage(await busyboxRootfs(lab.dir), ${JSON.stringify(IMAGE)}, ['s1']);
    await lab.docker('s1', ['run', '-d', '--network', 'none', '--name', 'orphan', ${JSON.stringify(IMAGE)}, 'sleep', '3600']);
    console.log(JSON.stringify({ prefix: lab.prefix, dir: lab.dir }));
    setInterval(() => {}, 1000);
  `;
    const child = (await import('node:child_process')).spawn(
      process.execPath,
      ['--input-type=module', '-e', script],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) =>
        reject(new Error(`creator exited (${code}) before it was ready`)),
      );
    });
    const { prefix, dir } = JSON.parse(line) as { prefix: string; dir: string };
    t.ok(traces(prefix, dir).length > 0, 'the lab exists');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    t.ok(traces(prefix, dir).length > 0, 'a SIGKILLed creator leaves it behind');
    const removed = await HostLab.removeStale();
    t.ok(removed >= 1, `removeStale removed ${removed}`);
    t.same(traces(prefix, dir), [], 'nothing of it is left');
  },
);
