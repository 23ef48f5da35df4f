// The commands for routes the CLI lacked: settings get/set, host ls/inspect, replica
// ls/add/rm; against a real `ballastd meta`.
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { ballast } from './helpers/exec.js';
import { startMeta } from './helpers/meta.js';

interface Volume {
  replicas: Array<{ nodeId: string; role: string }>;
  staleReplicas: Array<{ nodeId: string }>;
}

t.test('settings get and set', async (t) => {
  const { env, api } = await startMeta(t, { prefix: 'cli-settings-' });
  const before = (await api('GET', '/v1/settings')).body as Record<string, unknown>;
  const all = await ballast(['settings', 'get'], env);
  t.equal(all.code, 0, all.stderr);
  t.match(all.stdout, /^SETTING\s+VALUE\s*\n/);
  t.match(all.stdout, /\nrebalanceEnabled\s+true\s*\n/);
  t.same(JSON.parse((await ballast(['settings', 'get', '-o', 'json'], env)).stdout), before);
  t.same(parseYaml((await ballast(['settings', 'get', '-o', 'yaml'], env)).stdout), before);
  t.equal((await ballast(['settings', 'get', 'rebalanceEnabled'], env)).stdout, 'true\n');
  t.match(
    (await ballast(['settings', 'get', '-o', 'name'], env)).stdout,
    /^setting\/overProvisionPercent\n/,
  );

  const set = await ballast(
    [
      'settings',
      'set',
      'rebalanceEnabled=false',
      'rebuildBandwidthBytesPerSecond=100MiB',
      'replicaReplacementGraceMs=10m',
    ],
    env,
  );
  t.equal(set.code, 0, set.stderr);
  t.match(set.stdout, /^rebalanceEnabled: true -> false\n/m);
  t.match(set.stdout, /^rebuildBandwidthBytesPerSecond: \d+ -> 104857600\n/m);
  t.match(set.stdout, /^replicaReplacementGraceMs: \d+ -> 600000\n/m);
  t.match((await api('GET', '/v1/settings')).body, {
    rebalanceEnabled: false,
    rebuildBandwidthBytesPerSecond: 104857600,
    replicaReplacementGraceMs: 600000,
  });

  // Bad input: one line, non-zero, nothing changed.
  const now = (await api('GET', '/v1/settings')).body;
  for (const [args, code, message] of [
    [
      ['settings', 'set', 'noSuchSetting=1'],
      2,
      /^error: no setting noSuchSetting; the settings are /,
    ],
    [
      ['settings', 'set', 'rebalanceEnabled=maybe'],
      2,
      /^error: rebalanceEnabled is true or false, got "maybe"/,
    ],
    [
      ['settings', 'set', 'maxConcurrentMoves=two'],
      2,
      /^error: maxConcurrentMoves is a whole number, got "two"/,
    ],
    [['settings', 'set', 'replicaReplacementGraceMs=soon'], 2, /cannot parse "soon" as a duration/],
    [
      ['settings', 'set', 'maxConcurrentMoves'],
      2,
      /^error: expected key=value, got "maxConcurrentMoves"/,
    ],
    [['settings', 'set', 'maxConcurrentMoves=0'], 7, /^error: /],
    [['settings', 'get', 'nope'], 2, /^error: no setting nope/],
  ] as Array<[string[], number, RegExp]>) {
    const r = await ballast(args, env);
    t.equal(r.code, code, `${args.join(' ')}: exit ${code}`);
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr.trim()}`);
  }
  t.same((await api('GET', '/v1/settings')).body, now, 'nothing changed');
});

t.test('host ls and inspect', async (t) => {
  const { env, api } = await startMeta(t, { prefix: 'cli-hosts-', nodes: ['n1'] });
  t.equal((await ballast(['host', 'ls'], env)).stdout.trim(), 'HOST  STATE  SILENT  VOLUMES');
  t.equal((await api('POST', '/v1/hosts/docker1/heartbeat', { sequence: 1 })).status, 200);
  t.equal(
    (await api('POST', '/v1/volumes', { name: 'pg', size: '1GiB', replicas: 1 })).status,
    201,
  );
  t.equal((await api('POST', '/v1/volumes/pg/attach', { host: 'docker1' })).status, 200);
  const ls = await ballast(['host', 'ls'], env);
  t.equal(ls.code, 0, ls.stderr);
  t.match(ls.stdout, /\ndocker1\s+alive\s+\d+s\s+pg\s*\n/);
  t.match(
    (await ballast(['hosts', 'ls', '-o', 'wide'], env)).stdout,
    /LAST HEARTBEAT[\s\S]*docker1\s+alive\s+\d+s\s+pg\s+\d{4}-/,
  );
  t.equal((await ballast(['host', 'ls', '-o', 'name'], env)).stdout, 'host/docker1\n');
  const inspect = await ballast(['host', 'inspect', 'docker1'], env);
  t.match(
    inspect.stdout,
    /^Host\s+docker1\nState\s+alive\nLast heartbeat\s+\d{4}-.*ago\)\nSilent for\s+\d+s\nAttached volumes\s+pg\n$/,
  );
  t.match(JSON.parse((await ballast(['host', 'inspect', 'docker1', '-o', 'json'], env)).stdout), {
    id: 'docker1',
    alive: true,
    attachedVolumes: ['pg'],
  });
});

t.test('replica ls, add and rm', async (t) => {
  const { env, api } = await startMeta(t, { prefix: 'cli-replicas-', nodes: ['n1', 'n2', 'n3'] });
  t.equal(
    (await api('POST', '/v1/volumes', { name: 'pg', size: '1GiB', replicas: 1 })).status,
    201,
  );
  const first = ((await api('GET', '/v1/volumes/pg')).body as Volume).replicas[0]!.nodeId;
  const other = ['n1', 'n2', 'n3'].find((n) => n !== first)!;
  const ls = await ballast(['replica', 'ls', 'pg'], env);
  t.equal(ls.code, 0, ls.stderr);
  t.match(ls.stdout, new RegExp(`^NODE\\s+ROLE\\s+SINCE\\s*\\n${first}\\s+in-sync\\s+\\d{4}-`));
  t.equal(
    (await ballast(['replicas', 'ls', 'pg', '-o', 'name'], env)).stdout,
    `replica/pg/${first}\n`,
  );

  const add = await ballast(['replica', 'add', 'pg', other], env);
  t.equal(add.code, 0, add.stderr);
  t.equal(add.stdout, `volume pg: replica on ${other} added, rebuilding\n`);
  const json = JSON.parse((await ballast(['replica', 'ls', 'pg', '-o', 'json'], env)).stdout) as {
    volume: string;
    replicas: Volume['replicas'];
  };
  t.equal(json.volume, 'pg');
  t.same(
    json.replicas.map((r) => [r.nodeId, r.role]).sort(),
    [
      [first, 'in-sync'],
      [other, 'rebuilding'],
    ].sort(),
  );
  t.match((await ballast(['replica', 'ls', 'pg', '-o', 'wide'], env)).stdout, /EPOCH\s+VOLUME/);
  const again = await ballast(['replica', 'add', 'pg', other], env);
  t.equal(again.code, 4, 'a second replica on the same node is a conflict');

  const refused = await ballast(['replica', 'rm', 'pg', other], env);
  t.equal(refused.code, 2, 'asks first: no terminal, no --yes');
  const rm = await ballast(['replica', 'rm', 'pg', other, '--yes'], env);
  t.equal(rm.code, 0, rm.stderr);
  t.equal(rm.stdout, `volume pg: replica on ${other} removed\n`);
  t.same(
    ((await api('GET', '/v1/volumes/pg')).body as Volume).replicas.map((r) => r.nodeId),
    [first],
  );
  const last = await ballast(['replica', 'rm', 'pg', first, '--yes', '--force'], env);
  t.not(last.code, 0, 'never the last in-sync replica');
  t.equal(last.stderr.split('\n')[0]!.startsWith('error: '), true, last.stderr);
  const missing = await ballast(['replica', 'ls', 'nope'], env);
  t.equal(missing.code, 3);
});
