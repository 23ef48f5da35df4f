// startAgent as `ballastd agent` calls it (single-host mode), and the command runner every
// external tool goes through. No mounts here: fast.
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { startAgent } from '../src/index.js';
import { runChecked, runCommand } from '../src/exec.js';
import { RawHttpClient, captureLogger, tempDir } from './helpers/env.js';

t.test('startAgent serves the plugin socket and /metrics with the local backend', async (t) => {
  const dir = tempDir(t);
  const { logger, lines } = captureLogger();
  const pluginSocket = path.join(dir, 'plugins', 'ballast.sock');
  const agent = await startAgent(
    {
      id: 'h1',
      stateDir: path.join(dir, 'state'),
      runDir: path.join(dir, 'run'),
      pluginSocket,
      meta: [],
    },
    logger,
  );
  t.teardown(() => agent.close());
  t.equal(agent.backend.kind, 'local-file');
  t.ok(
    lines.some((l) => l.level === 'warn' && /NOT replicated/.test(l.msg)),
    'warns that nothing is replicated',
  );
  t.same(agent.recovery, { kept: [], lost: [], cleaned: [] });
  const client = await RawHttpClient.connect(pluginSocket);
  t.teardown(() => client.close());
  t.equal(
    (await client.call('/VolumeDriver.Create', { Name: 'm', Opts: { size: '16MiB' } })).status,
    200,
  );
  t.equal((await client.call('/VolumeDriver.Get', { Name: 'nope' })).status, 500);
  const metrics = await (await fetch(agent.endpoints.metrics!)).text();
  t.match(
    metrics,
    /ballast_agent_plugin_requests_total\{endpoint="VolumeDriver.Create",outcome="ok",role="agent",host="h1"\} 1/,
  );
  t.match(
    metrics,
    /ballast_agent_plugin_requests_total\{endpoint="VolumeDriver.Get",outcome="error"/,
  );
  t.match(metrics, /ballast_agent_volumes_mounted\{role="agent",host="h1"\} 0/);
  t.match(metrics, /ballast_agent_mount_seconds_bucket/);
  const health = await fetch(agent.endpoints.health!);
  t.equal(health.status, 200);
  client.close();
  await agent.close();
  t.notOk(fs.existsSync(pluginSocket), 'the plugin socket is removed on close');
});

t.test('meta URLs without a token are a clear configuration error', async (t) => {
  const dir = tempDir(t);
  await t.rejects(
    startAgent(
      {
        id: 'h1',
        stateDir: path.join(dir, 'state'),
        runDir: path.join(dir, 'run'),
        pluginSocket: path.join(dir, 'p.sock'),
        meta: ['http://127.0.0.1:1'],
      },
      captureLogger().logger,
    ),
    { code: 'CONFIG', message: /no token/ },
  );
});

t.test('external commands: stderr in the error, a bound on the time', async (t) => {
  try {
    await runChecked('sh', ['-c', 'echo "it broke" >&2; exit 3'], { timeoutMs: 10_000 });
    t.fail('succeeded');
  } catch (err) {
    t.ok(isBallastError(err, 'IO'));
    t.match((err as Error).message, /sh -c .* failed \(exit 3: it broke\)/);
  }
  try {
    await runCommand('sh', ['-c', 'echo stuck >&2; sleep 30'], { timeoutMs: 200 });
    t.fail('did not time out');
  } catch (err) {
    t.ok(isBallastError(err, 'TIMEOUT'));
    t.match((err as Error).message, /did not finish within 200 ms: stuck/);
  }
  await t.rejects(runChecked('/nonexistent/tool', [], { timeoutMs: 1_000 }), {
    code: 'IO',
    message: /cannot start/,
  });
  const okCodes = await runChecked('sh', ['-c', 'exit 2'], { timeoutMs: 5_000, okCodes: [0, 2] });
  t.equal(okCodes.code, 2, 'okCodes accepted');
});
