// The agent's admin API (what `ballast volume attach|detach` calls) on its unix socket, with the
// single-host backend: raw NBD attachments that real clients (nbdinfo, qemu-io) use over the unix
// URI and the TCP export, their exclusion with plugin mounts, recovery after an agent restart, and
// bad requests. The cluster side (epochs, other hosts, force) is in two-hosts.test.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { startAgent, type RunningAgent } from '../src/index.js';
import { adminCall } from './helpers/admin.js';
import {
  RawHttpClient,
  captureLogger,
  leftoversUnder,
  needsRoot,
  run,
  tempDir,
} from './helpers/env.js';

const MiB = 1024 * 1024;

async function start(t: Test, dir: string, nbdListen?: string): Promise<RunningAgent> {
  const agent = await startAgent(
    {
      id: 'h1',
      stateDir: path.join(dir, 'state'),
      runDir: path.join(dir, 'run'),
      pluginSocket: path.join(dir, 'plugins', 'ballast.sock'),
      mountRoot: path.join(dir, 'mnt'),
      meta: [],
      relay: false,
      nbdListen,
    },
    captureLogger().logger,
  );
  let closed = false;
  t.teardown(async () => {
    if (closed) return;
    closed = true;
    await agent.mounts.unmountAll();
    await agent.close();
  });
  const close = agent.close;
  agent.close = async () => {
    closed = true;
    await close();
  };
  return agent;
}

async function plugin(agent: RunningAgent, endpoint: string, body: unknown) {
  const client = await RawHttpClient.connect(agent.endpoints.plugin!);
  try {
    const reply = await client.call(endpoint, body);
    return { status: reply.status, body: JSON.parse(reply.body) as Record<string, unknown> };
  } finally {
    client.close();
  }
}

async function qemuIo(t: Test, uri: string, command: string): Promise<void> {
  const result = await run('qemu-io', ['-f', 'raw', '-c', command, uri], { timeoutMs: 60_000 });
  t.equal(result.code, 0, `qemu-io ${command} on ${uri}: ${result.stderr}${result.stdout}`);
  t.notMatch(result.stdout, /Pattern verification failed|error/i, `qemu-io ${command}`);
}

if (needsRoot(t)) {
  t.test('raw attach: an NBD URI for real clients, idempotent, detach flushes', async (t) => {
    const dir = tempDir(t);
    const agent = await start(t, dir, '127.0.0.1:0');
    const admin = agent.endpoints.admin!;
    t.equal(admin, path.join(dir, 'state', 'agent.sock'), 'the admin socket is in the state dir');
    const stat = fs.statSync(admin);
    t.ok(stat.isSocket(), 'a unix socket');
    t.equal(stat.mode & 0o777, 0o600, 'mode 0600: root only');
    t.equal(fs.statSync(path.join(dir, 'state')).mode & 0o777, 0o700, 'in a 0700 directory');
    t.equal(
      (await plugin(agent, '/VolumeDriver.Create', { Name: 'raw1', Opts: { size: '64MiB' } }))
        .status,
      200,
    );

    const attached = await adminCall(admin, 'POST', '/v1/volumes/raw1/attach', {});
    t.equal(attached.status, 200, attached.text);
    const socket = path.join(dir, 'run', 'nbd', 'raw1.sock');
    t.match(attached.body, {
      volume: 'raw1',
      host: 'h1',
      epoch: null,
      sizeBytes: 64 * MiB,
      exportName: 'raw1',
      socket,
      uri: `nbd+unix:///raw1?socket=${socket}`,
      tcpUri: /^nbd:\/\/127\.0\.0\.1:\d+\/raw1$/,
      alreadyAttached: false,
    });
    const uri = attached.body.uri as string;
    const tcpUri = attached.body.tcpUri as string;

    const info = await run('nbdinfo', ['--json', uri]);
    t.equal(info.code, 0, info.stderr);
    const exported = (JSON.parse(info.stdout) as { exports: Array<Record<string, unknown>> })
      .exports[0]!;
    t.equal(exported['export-size'], 64 * MiB, 'nbdinfo sees the size');
    t.equal(exported['export-name'], 'raw1');
    await qemuIo(t, uri, 'write -P 0xab 1M 256k');
    await qemuIo(t, tcpUri, 'read -P 0xab 1M 256k');
    await qemuIo(t, tcpUri, 'write -P 0xcd 4M 64k');
    await qemuIo(t, uri, 'read -P 0xcd 4M 64k');

    const again = await adminCall(admin, 'POST', '/v1/volumes/raw1/attach', {});
    t.match(again.body, { uri, tcpUri, alreadyAttached: true }, 'attach again: the same one');
    const list = await adminCall(admin, 'GET', '/v1/attachments');
    t.same(
      (list.body.items as Array<{ volume: string }>).map((a) => a.volume),
      ['raw1'],
    );
    const status = await adminCall(admin, 'GET', '/v1/status');
    t.match(status.body, { host: 'h1', backend: 'local-file', nbdTcp: /^127\.0\.0\.1:\d+$/ });

    const mount = await plugin(agent, '/VolumeDriver.Mount', { Name: 'raw1', ID: 'a'.repeat(64) });
    t.equal(mount.status, 500, 'the plugin does not mount a raw-attached volume');
    t.match(mount.body.Err, /attached on this host for raw NBD use .*ballast volume detach raw1/);
    t.same(agent.mounts.volumes(), [], 'and records nothing');

    const detached = await adminCall(admin, 'POST', '/v1/volumes/raw1/detach', {});
    t.equal(detached.status, 200, detached.text);
    t.same(detached.body, {
      volume: 'raw1',
      detached: true,
      previousHost: 'h1',
      forced: false,
      flushed: true,
      fenced: false,
      epoch: null,
    });
    t.notOk(fs.existsSync(socket), 'the export socket is gone');
    t.not((await run('nbdinfo', [tcpUri])).code, 0, 'the TCP export is gone');
    const twice = await adminCall(admin, 'POST', '/v1/volumes/raw1/detach', {});
    t.match(twice.body, { detached: false, previousHost: null }, 'detach again: nothing to do');
    t.match((await plugin(agent, '/VolumeDriver.Get', { Name: 'raw1' })).body, {
      Volume: { Status: { attachedTo: null } },
    });

    const back = await adminCall(admin, 'POST', '/v1/volumes/raw1/attach', {});
    await qemuIo(t, back.body.uri as string, 'read -P 0xab 1M 256k');
    await qemuIo(t, back.body.uri as string, 'read -P 0xcd 4M 64k');
    t.equal((await adminCall(admin, 'POST', '/v1/volumes/raw1/detach', {})).status, 200);
    const metrics = await (await fetch(agent.endpoints.metrics!)).text();
    t.match(metrics, /ballast_agent_nbd_attach_seconds_count\{[^}]*\} 2/);
    t.match(metrics, /ballast_agent_nbd_attachments\{[^}]*\} 0/);
  });

  t.test('a volume mounted by the plugin is neither attached raw nor detached', async (t) => {
    const dir = tempDir(t);
    const agent = await start(t, dir);
    const admin = agent.endpoints.admin!;
    await plugin(agent, '/VolumeDriver.Create', { Name: 'mnt1', Opts: { size: '64MiB' } });
    const mount = await plugin(agent, '/VolumeDriver.Mount', { Name: 'mnt1', ID: 'b'.repeat(64) });
    t.equal(mount.status, 200, JSON.stringify(mount.body));
    const mountPath = mount.body.Mountpoint as string;

    const attach = await adminCall(admin, 'POST', '/v1/volumes/mnt1/attach', { force: true });
    t.equal(attach.status, 409);
    t.match(attach.body, {
      code: 'CONFLICT',
      message: /mounted on this host by the Docker plugin .*would corrupt it/,
      details: { mountPath },
    });
    for (const force of [false, true]) {
      const detach = await adminCall(admin, 'POST', '/v1/volumes/mnt1/detach', { force });
      t.equal(detach.status, 409, `detach (force ${force}) is refused`);
      t.match(detach.body.message, /mounted on this host by the Docker plugin for 1 container/);
      t.match(detach.body.message, /docker ps --filter volume=mnt1/);
    }
    t.equal(agent.mounts.status('mnt1')?.phase, 'mounted', 'the mount is untouched');
    t.equal(
      (await plugin(agent, '/VolumeDriver.Unmount', { Name: 'mnt1', ID: 'b'.repeat(64) })).status,
      200,
    );
    t.match((await adminCall(admin, 'POST', '/v1/volumes/mnt1/detach', {})).body, {
      detached: false,
    });
    await agent.close();
    t.same(await leftoversUnder(dir), { mounts: [], loops: [], processes: [] });
  });

  t.test('raw attachments are served again after an agent restart', async (t) => {
    const dir = tempDir(t);
    const first = await start(t, dir);
    await plugin(first, '/VolumeDriver.Create', { Name: 'keep', Opts: { size: '32MiB' } });
    const attached = await adminCall(first.endpoints.admin!, 'POST', '/v1/volumes/keep/attach', {});
    const uri = attached.body.uri as string;
    await qemuIo(t, uri, 'write -P 0x5a 0 1M');
    await first.close();
    t.not((await run('nbdinfo', [uri])).code, 0, 'nothing serves it while the agent is down');

    const second = await start(t, dir);
    t.same(second.attachmentRecovery, { kept: ['keep'], lost: [] });
    const list = await adminCall(second.endpoints.admin!, 'GET', '/v1/attachments');
    t.match(list.body.items, [{ volume: 'keep', uri }], 'the same URI');
    await qemuIo(t, uri, 'read -P 0x5a 0 1M');
    t.equal(
      (await adminCall(second.endpoints.admin!, 'POST', '/v1/volumes/keep/detach', {})).status,
      200,
    );
    await second.close();
    const third = await start(t, dir);
    t.same(third.attachmentRecovery, { kept: [], lost: [] }, 'a detached one is not served again');
  });
}

t.test('bad requests to the admin socket get a clear error and change nothing', async (t) => {
  const dir = tempDir(t);
  const agent = await start(t, dir);
  const admin = agent.endpoints.admin!;
  await plugin(agent, '/VolumeDriver.Create', { Name: 'v', Opts: { size: '16MiB' } });
  const cases: Array<[string, string, string | undefined, number, RegExp]> = [
    ['GET', '/v1/nope', undefined, 404, /no admin route/],
    ['GET', '/v1/volumes/v/attach', undefined, 405, /not allowed/],
    ['POST', '/v1/volumes/v/attach', '{"force":', 400, /not valid JSON/],
    ['POST', '/v1/volumes/v/attach', '[true]', 400, /must be a JSON object/],
    [
      'POST',
      '/v1/volumes/v/attach',
      '{"forse":true}',
      400,
      /unknown field\(s\) forse; valid: force/,
    ],
    ['POST', '/v1/volumes/v/attach', '{"force":"yes"}', 400, /force must be true or false/],
    ['POST', '/v1/volumes/..%2Fx/attach', '{}', 400, /invalid volume name/],
    ['POST', '/v1/volumes/%E0%A4%A/attach', '{}', 400, /percent-encoding/],
    ['POST', '/v1/volumes/nope/attach', '{}', 404, /no volume named nope/],
    ['POST', '/v1/volumes/nope/detach', '{}', 404, /no volume named nope/],
    ['POST', '/v1/volumes/v/attach', `{"force":"${'x'.repeat(20_000)}"}`, 413, /larger than/],
  ];
  for (const [method, url, body, status, message] of cases) {
    const reply = await adminCall(admin, method, url, undefined, body);
    t.equal(reply.status, status, `${method} ${url.slice(0, 40)}: ${status}`);
    t.match(reply.body.message, message, `${method} ${url.slice(0, 40)}: message`);
    t.type(reply.body.code, 'string');
  }
  // Garbage that is not HTTP closes that connection only.
  const garbage = await RawHttpClient.connect(admin);
  const closed = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (garbage.isClosed) {
        clearInterval(poll);
        resolve();
      }
    }, 10);
  });
  void garbage.sendRaw('\x00\x01 not http at all\r\n\r\n');
  await closed;
  const list = await adminCall(admin, 'GET', '/v1/attachments');
  t.same(list.body, { items: [] }, 'nothing was attached');
  t.same(agent.mounts.volumes(), []);
});
