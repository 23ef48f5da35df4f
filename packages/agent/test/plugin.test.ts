// The Docker volume plugin protocol (protocols.md A.10) over a real unix socket, driven by a raw
// HTTP client that sends what dockerd sends: POST, no Content-Type, JSON with a trailing
// newline, many requests on one kept-alive connection. Mounts are real (nbdfuse + loop).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { PluginServer } from '../src/index.js';
import { RawHttpClient, needsRoot, tempDir, type HttpReply } from './helpers/env.js';
import { makeStack, type Stack } from './helpers/stack.js';

const ID1 = 'a'.repeat(64);
const ID2 = 'b'.repeat(64);

interface Fixture {
  stack: Stack;
  plugin: PluginServer;
  client: RawHttpClient;
  socketPath: string;
}

async function setUp(t: Test): Promise<Fixture> {
  const dir = tempDir(t);
  const stack = await makeStack(t, dir);
  const socketPath = path.join(dir, 'plugins', 'ballast-test.sock');
  const plugin = await PluginServer.start({
    socketPath,
    backend: stack.backend,
    mounts: stack.mounts,
    logger: stack.logger,
  });
  t.teardown(() => plugin.close());
  const client = await RawHttpClient.connect(socketPath);
  t.teardown(() => client.close());
  return { stack, plugin, client, socketPath };
}

function json(reply: HttpReply): Record<string, unknown> {
  return JSON.parse(reply.body) as Record<string, unknown>;
}

function ok(t: Tap, reply: HttpReply, what: string): Record<string, unknown> {
  t.equal(reply.status, 200, `${what}: HTTP 200 (${reply.body})`);
  t.not(reply.body, '', `${what}: body is never empty`);
  return json(reply);
}

function failed(t: Tap, reply: HttpReply, what: string, pattern?: RegExp): string {
  t.not(reply.status, 200, `${what}: non-2xx status`);
  const body = json(reply);
  t.type(body.Err, 'string', `${what}: Err is a string`);
  t.not(body.Err, '', `${what}: Err is not empty`);
  if (pattern) t.match(body.Err, pattern, `${what}: message`);
  return body.Err as string;
}

type Tap = Test;

if (needsRoot(t)) {
  t.test('activation, capabilities, socket mode', async (t) => {
    const { client, socketPath } = await setUp(t);
    t.equal(fs.statSync(socketPath).mode & 0o777, 0o600, 'socket is root-only (0600)');
    const activate = await client.post('/Plugin.Activate', '');
    t.equal(activate.status, 200);
    t.equal(activate.body, '{"Implements":["VolumeDriver"]}', 'exact Activate reply');
    t.match(activate.headers['content-type'], /^application\/vnd\.docker\.plugins\.v1/);
    const caps = await client.call('/VolumeDriver.Capabilities', {});
    t.equal(caps.body, '{"Capabilities":{"Scope":"global"}}', 'exact Capabilities reply');
    t.notOk(client.isClosed, 'the connection is kept alive');
  });

  t.test('create, get, list: options, idempotence and refusals', async (t) => {
    const { client, stack } = await setUp(t);
    const unknown = failed(
      t,
      await client.call('/VolumeDriver.Get', { Name: 'v1' }),
      'Get before Create',
    );
    t.match(unknown, /no volume named v1/);
    t.same(ok(t, await client.call('/VolumeDriver.List', {}), 'empty List'), {
      Volumes: [],
      Err: '',
    });

    t.same(
      ok(
        t,
        await client.call('/VolumeDriver.Create', {
          Name: 'v1',
          Opts: { size: '64MiB', replicas: '2', 'label.ssd': 'true' },
        }),
        'Create',
      ),
      { Err: '' },
    );
    t.same(
      ok(
        t,
        await client.call('/VolumeDriver.Create', {
          Name: 'v1',
          Opts: { size: '64MiB', replicas: '2', 'label.ssd': 'true' },
        }),
        'Create again',
      ),
      { Err: '' },
      'idempotent for the same options',
    );
    failed(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'v1', Opts: { size: '128MiB' } }),
      'Create with other options',
      /already exists with other options/,
    );
    ok(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'v1', Opts: null }),
      'implicit Create (Opts null) of an existing volume',
    );
    ok(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'v2', Opts: null }),
      'Create with Opts null',
    );
    ok(t, await client.call('/VolumeDriver.Create', { Name: 'v3' }), 'Create without Opts');
    ok(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'v4', Opts: {} }),
      'Create with empty Opts',
    );

    const before = (await stack.backend.list()).length;
    const bad = failed(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'v5', Opts: { sise: '1G' } }),
      'unknown option',
      /unknown option "sise"/,
    );
    t.match(
      bad,
      /valid options: size, replicas, fs, zone, chunkSize, replicaTimeout, labels, label\.<key>/,
    );
    failed(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'v5', Opts: { replicas: '9' } }),
      'bad replicas',
      /replicas/,
    );
    failed(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'v5', Opts: { fs: 'zfs' } }),
      'bad fs',
      /fs/,
    );
    failed(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'v5', Opts: { size: 64 } }),
      'non-string option',
      /string/,
    );
    failed(
      t,
      await client.call('/VolumeDriver.Create', { Name: '../x', Opts: null }),
      'bad name',
      /invalid volume name/,
    );
    failed(
      t,
      await client.call('/VolumeDriver.Create', { Opts: null }),
      'missing name',
      /invalid volume name/,
    );
    t.equal((await stack.backend.list()).length, before, 'refused creates changed nothing');

    const get = ok(t, await client.call('/VolumeDriver.Get', { Name: 'v1' }), 'Get');
    const volume = get.Volume as Record<string, unknown>;
    t.equal(get.Err, '');
    t.equal(volume.Name, 'v1', 'Name echoes the request');
    t.match(
      volume.CreatedAt,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/,
      'CreatedAt is RFC 3339',
    );
    t.notOk('Mountpoint' in volume, 'no Mountpoint while not mounted here');
    t.match(volume.Status, {
      size: '64 MiB',
      sizeBytes: 64 * 1024 * 1024,
      replicas: '2',
      fs: 'ext4',
      'label.ssd': 'true',
      attachedTo: null,
      mountedHere: false,
      backend: 'local-file',
    });
    const list = ok(t, await client.call('/VolumeDriver.List', {}), 'List');
    t.same(
      (list.Volumes as Array<{ Name: string }>).map((v) => v.Name).sort(),
      ['v1', 'v2', 'v3', 'v4'],
      'List returns every volume with a Name',
    );
    t.notOk(client.isClosed, 'all on one kept-alive connection');
  });

  t.test('mount, unmount, path, remove: references and errors', async (t) => {
    const { client, stack } = await setUp(t);
    failed(
      t,
      await client.call('/VolumeDriver.Mount', { Name: 'm1', ID: ID1 }),
      'Mount without Create',
      /no volume named m1/,
    );
    t.same(stack.mounts.volumes(), [], 'nothing recorded');
    ok(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'm1', Opts: { size: '32MiB' } }),
      'Create',
    );
    failed(
      t,
      await client.call('/VolumeDriver.Mount', { Name: 'm1' }),
      'Mount without ID',
      /mount ID/,
    );
    t.same(ok(t, await client.call('/VolumeDriver.Path', { Name: 'm1' }), 'Path before Mount'), {
      Err: '',
    });

    const first = ok(
      t,
      await client.call('/VolumeDriver.Mount', { Name: 'm1', ID: ID1 }),
      'Mount ID1',
    );
    const mountpoint = first.Mountpoint as string;
    t.ok(path.isAbsolute(mountpoint), 'absolute Mountpoint');
    t.equal(first.Err, '');
    const second = ok(
      t,
      await client.call('/VolumeDriver.Mount', { Name: 'm1', ID: ID2 }),
      'Mount ID2',
    );
    t.equal(second.Mountpoint, mountpoint, 'every Mount returns the same Mountpoint');
    t.same(ok(t, await client.call('/VolumeDriver.Path', { Name: 'm1' }), 'Path'), {
      Mountpoint: mountpoint,
      Err: '',
    });
    const got = ok(t, await client.call('/VolumeDriver.Get', { Name: 'm1' }), 'Get mounted')
      .Volume as Record<string, unknown>;
    t.equal(got.Mountpoint, mountpoint);
    t.match(got.Status, {
      attachedTo: 'h1',
      mountedHere: true,
      mountPath: mountpoint,
      mountRefs: 2,
      attachPath: 'nbdfuse-loop',
    });
    const listed = ok(t, await client.call('/VolumeDriver.List', {}), 'List mounted');
    t.same(listed.Volumes, [{ Name: 'm1', Mountpoint: mountpoint }]);

    failed(
      t,
      await client.call('/VolumeDriver.Remove', { Name: 'm1' }),
      'Remove while mounted',
      /mounted on this host/,
    );
    t.same(
      ok(t, await client.call('/VolumeDriver.Unmount', { Name: 'm1', ID: ID1 }), 'Unmount ID1'),
      { Err: '' },
    );
    t.equal(stack.mounts.mountpoint('m1'), mountpoint, 'still mounted for ID2');
    t.same(
      ok(
        t,
        await client.call('/VolumeDriver.Unmount', { Name: 'm1', ID: 'c'.repeat(64) }),
        'Unmount unknown ID',
      ),
      { Err: '' },
    );
    t.equal(stack.mounts.mountpoint('m1'), mountpoint, 'unknown ID changed nothing');
    ok(t, await client.call('/VolumeDriver.Mount', { Name: 'm1', ID: ID2 }), 'Mount ID2 again');
    ok(t, await client.call('/VolumeDriver.Unmount', { Name: 'm1', ID: ID2 }), 'Unmount ID2 once');
    t.equal(stack.mounts.mountpoint('m1'), mountpoint, 'ID2 mounted twice needs two unmounts');
    ok(t, await client.call('/VolumeDriver.Unmount', { Name: 'm1', ID: ID2 }), 'Unmount ID2 twice');
    t.equal(stack.mounts.mountpoint('m1'), undefined, 'released after the last unmount');
    t.notOk(
      fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(mountpoint),
      'no longer in mountinfo',
    );
    t.same(
      ok(t, await client.call('/VolumeDriver.Unmount', { Name: 'm1', ID: ID1 }), 'Unmount again'),
      { Err: '' },
      'idempotent',
    );
    failed(
      t,
      await client.call('/VolumeDriver.Unmount', { Name: 'zz', ID: ID1 }),
      'Unmount of a volume nobody knows',
      /no volume named zz/,
    );

    t.same(ok(t, await client.call('/VolumeDriver.Remove', { Name: 'm1' }), 'Remove'), { Err: '' });
    failed(t, await client.call('/VolumeDriver.Get', { Name: 'm1' }), 'Get after Remove');
    failed(
      t,
      await client.call('/VolumeDriver.Remove', { Name: 'm1' }),
      'Remove unknown',
      /no volume named m1/,
    );
    failed(t, await client.call('/VolumeDriver.Path', { Name: 'm1' }), 'Path unknown');
    t.same(await stack.shutdown(), { mounts: [], loops: [], processes: [] }, 'nothing left behind');
  });

  t.test('garbage, odd framing and wrong methods get an Err and change nothing', async (t) => {
    const { client, socketPath, stack } = await setUp(t);
    failed(
      t,
      await client.post('/VolumeDriver.Create', '{"Name":"g1",'),
      'truncated JSON',
      /not valid JSON/,
    );
    failed(t, await client.post('/VolumeDriver.Create', '[1,2]'), 'JSON array', /JSON object/);
    failed(t, await client.post('/VolumeDriver.Create', '"x"\n'), 'JSON string', /JSON object/);
    failed(
      t,
      await client.post('/VolumeDriver.Create', '\u0000\u00ff\u0001garbage'),
      'binary garbage',
    );
    failed(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'g1', Opts: ['size=1G'] }),
      'Opts array',
      /Opts/,
    );
    failed(
      t,
      await client.call('/VolumeDriver.Create', { Name: 7 }),
      'numeric Name',
      /invalid volume name/,
    );
    failed(
      t,
      await client.call('/VolumeDriver.Create', { Name: 'x'.repeat(200) }),
      'long Name',
      /invalid volume name/,
    );
    failed(t, await client.call('/VolumeDriver.Nope', {}), 'unknown endpoint', /unknown endpoint/);
    const get = await client.sendRaw('GET /VolumeDriver.List HTTP/1.1\r\nHost: x\r\n\r\n');
    t.equal(get.status, 405, 'GET is refused');
    t.match(json(get).Err, /POST/);
    const chunked = await client.sendRaw(
      'POST /VolumeDriver.Create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '10\r\n{"Name":"chunky"\r\n2\r\n}\n\r\n0\r\n\r\n',
    );
    ok(t, chunked, 'chunked body');
    const typed = await client.post(
      '/VolumeDriver.Get',
      '{"Name":"chunky"}\n',
      'Content-Type: text/plain\r\n',
    );
    ok(t, typed, 'any Content-Type is fine');
    t.notOk(client.isClosed, 'errors did not close the kept-alive connection');

    const big = await RawHttpClient.connect(socketPath);
    t.teardown(() => big.close());
    const huge = await big.post(
      '/VolumeDriver.Create',
      `{"Name":"h","Opts":{"size":"${'9'.repeat(100_000)}"}}`,
    );
    t.equal(huge.status, 413, 'oversized body refused');

    // A client that stops in the middle of a body, and one that sends nonsense instead of HTTP.
    for (const raw of [
      'POST /VolumeDriver.Create HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"Na',
      'NOT HTTP AT ALL\r\n\r\n',
    ]) {
      await new Promise<void>((resolve) => {
        const s = net.connect(socketPath, () => {
          s.end(raw);
        });
        s.on('data', () => {});
        s.on('close', () => resolve());
        s.on('error', () => resolve());
      });
    }
    const after = await RawHttpClient.connect(socketPath);
    t.teardown(() => after.close());
    const list = ok(t, await after.call('/VolumeDriver.List', {}), 'server still answers');
    t.same(
      (list.Volumes as Array<{ Name: string }>).map((v) => v.Name),
      ['chunky'],
      'only the good create happened',
    );
    t.same(stack.mounts.volumes(), []);
  });

  t.test('a second agent cannot take over a live plugin socket', async (t) => {
    const { socketPath, stack } = await setUp(t);
    await t.rejects(
      PluginServer.start({ socketPath, backend: stack.backend, mounts: stack.mounts }),
      { code: 'CONFLICT' },
    );
  });
}
