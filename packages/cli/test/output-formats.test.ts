// `-o json|yaml|wide|name` on the lists and inspect commands, `--json` as `-o json`, a bad
// format refused before anything is sent, NO_COLOR, and the examples in --help; against a real
// `ballastd meta`.
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { ballast } from './helpers/exec.js';
import { startMeta } from './helpers/meta.js';

/** Where colour starts (an ANSI escape sequence). */
const ESC = '\u001b[';

interface Volume {
  id: string;
  name: string;
}

t.test('every list and inspect speaks json, yaml, wide and name', async (t) => {
  const meta = await startMeta(t, { prefix: 'cli-output-', nodes: ['n1', 'n2'] });
  const { env, api } = meta;
  t.equal(
    (await api('POST', '/v1/volumes', { name: 'pgdata', size: '1GiB', replicas: 2 })).status,
    201,
  );
  t.equal(
    (await api('POST', '/v1/volumes', { name: 'logs', size: '2GiB', replicas: 1 })).status,
    201,
  );
  const pgdata = (await api('GET', '/v1/volumes/pgdata')).body as Volume;

  // volume ls
  const json = await ballast(['volume', 'ls', '-o', 'json'], env);
  t.equal(json.code, 0, json.stderr);
  const listed = JSON.parse(json.stdout) as Volume[];
  t.same(listed.map((v) => v.name).sort(), ['logs', 'pgdata']);
  const alias = await ballast(['volume', 'ls', '--json'], env);
  t.same(JSON.parse(alias.stdout), listed, '--json is -o json');
  const yaml = await ballast(['volume', 'ls', '--output', 'yaml'], env);
  t.equal(yaml.code, 0, yaml.stderr);
  t.match(yaml.stdout, /^- id: /, 'a YAML sequence of mappings');
  t.same(parseYaml(yaml.stdout), listed, 'yaml holds what json holds');
  const names = await ballast(['volume', 'ls', '-o', 'name'], env);
  t.equal(names.stdout, 'volume/logs\nvolume/pgdata\n');
  const table = await ballast(['volume', 'ls'], env);
  t.match(
    table.stdout,
    /^NAME\s+SIZE\s+REPLICAS\s+STATE\s+ATTACHED\s+MOUNTED AT\s+EPOCH\s+NODES\s*\n/,
  );
  t.notMatch(table.stdout, /CHUNK|ZONE SPREAD/, 'the default table leaves the wide columns out');
  const wide = await ballast(['volume', 'ls', '-o', 'wide'], env);
  t.match(
    wide.stdout,
    /^NAME\s+SIZE\s+REPLICAS\s+STATE\s+ATTACHED\s+MOUNTED AT\s+EPOCH\s+NODES\s+ID\s+CHUNK\s+FS\s+ZONE SPREAD\s+SELECTOR\s+CREATED/,
  );
  t.match(
    wide.stdout,
    new RegExp(
      `pgdata\\s+1 GiB\\s+2/2\\s+healthy\\s+-\\s+-\\s+0\\s+n[12],n[12]\\s+${pgdata.id}\\s+4 MiB\\s+ext4\\s+preferred\\s+-\\s+\\d{4}-\\d\\d-\\d\\dT`,
    ),
  );

  // volume inspect
  const inspectJson = JSON.parse(
    (await ballast(['volume', 'inspect', 'pgdata', '-o', 'json'], env)).stdout,
  ) as Volume;
  t.equal(inspectJson.id, pgdata.id);
  const inspectYaml = await ballast(['volume', 'inspect', 'pgdata', '-o', 'yaml'], env);
  t.same(parseYaml(inspectYaml.stdout), inspectJson);
  t.equal(
    (await ballast(['volume', 'inspect', 'pgdata', '-o', 'name'], env)).stdout,
    'volume/pgdata\n',
  );
  const inspectWide = await ballast(['volume', 'inspect', 'pgdata', '-o', 'wide'], env);
  t.match(inspectWide.stdout, /^Name\s+pgdata\n/, 'wide inspect is the detail view');

  // node ls / inspect
  t.equal((await ballast(['node', 'ls', '-o', 'name'], env)).stdout, 'node/n1\nnode/n2\n');
  const nodeWide = await ballast(['node', 'ls', '-o', 'wide'], env);
  t.match(nodeWide.stdout, /LABELS\s+SCHEDULING\s+REACHABLE\s+LAST HEARTBEAT\s+REASON/);
  t.match(nodeWide.stdout, /\nn1\s+up\s+.*\s+active\s+true\s+\d{4}-/);
  t.notMatch((await ballast(['node', 'ls'], env)).stdout, /SCHEDULING/);
  const nodeYaml = parseYaml(
    (await ballast(['node', 'inspect', 'n1', '-o', 'yaml'], env)).stdout,
  ) as {
    id: string;
    volumes: string[];
  };
  t.equal(nodeYaml.id, 'n1');
  t.ok(nodeYaml.volumes.includes('pgdata'), 'node inspect -o yaml lists its volumes');
  t.equal((await ballast(['node', 'inspect', 'n2', '-o', 'name'], env)).stdout, 'node/n2\n');

  // task ls: a replica added by hand makes a rebuild task
  const one = (await api('GET', '/v1/volumes/logs')).body as {
    replicas: Array<{ nodeId: string }>;
  };
  const target = one.replicas[0]!.nodeId === 'n1' ? 'n2' : 'n1';
  t.equal((await api('POST', '/v1/volumes/logs/replicas', { nodeId: target })).status, 201);
  const tasks = JSON.parse((await ballast(['task', 'ls', '-o', 'json'], env)).stdout) as Array<{
    id: string;
  }>;
  t.equal(tasks.length, 1);
  t.equal((await ballast(['task', 'ls', '-o', 'name'], env)).stdout, `task/${tasks[0]!.id}\n`);
  t.same(parseYaml((await ballast(['task', 'ls', '-o', 'yaml'], env)).stdout), tasks);
  t.match(
    (await ballast(['task', 'ls', '-o', 'wide'], env)).stdout,
    /MESSAGE\s+CREATED\s+STARTED\s+FINISHED\s*\n/,
  );

  // cluster status
  t.equal((await ballast(['cluster', 'status', '-o', 'name'], env)).stdout, 'member/m1\n');
  const statusYaml = parseYaml(
    (await ballast(['cluster', 'status', '-o', 'yaml'], env)).stdout,
  ) as {
    leader: string;
    members: Array<{ id: string; reachable: boolean }>;
  };
  t.match(statusYaml, { leader: 'm1', members: [{ id: 'm1', reachable: true }] });
  const statusWide = await ballast(['cluster', 'status', '-o', 'wide'], env);
  t.match(statusWide.stdout, /MEMBER\s+ROLE\s+API\s+REACHABLE\s+VERSION/);
  t.match(statusWide.stdout, /m1\s+leader\s+http:\/\/127\.0\.0\.1:\d+\s+true\s+0\.1\.0/);
  t.match(statusWide.stdout, /Revision\s+\d+/);
});

t.test('a bad -o: one line on stderr, exit 2, nothing sent', async (t) => {
  // Nothing listens on port 1: a command that got as far as asking meta would exit 5.
  const env = { BALLAST_ENDPOINT: 'http://127.0.0.1:1', BALLAST_TOKEN: 'x'.repeat(32) };
  for (const args of [
    ['volume', 'ls', '-o', 'xml'],
    ['volume', 'inspect', 'pgdata', '--output', 'table'],
    ['node', 'ls', '-o', 'JSON'],
    ['task', 'ls', '-o', ''],
    ['cluster', 'status', '-o', 'names'],
    ['version', '-o', 'wide'],
  ]) {
    const r = await ballast(args, env);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.equal(r.stdout, '', 'nothing on stdout');
    t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr.trim()}`);
    t.match(r.stderr, /^error: --output must be one of json, yaml/);
  }
  const both = await ballast(['volume', 'ls', '--json', '-o', 'yaml'], env);
  t.equal(both.code, 2);
  t.match(both.stderr, /^error: --json and --output yaml disagree/);
});

t.test('NO_COLOR turns colour off; examples in --help', async (t) => {
  const meta = await startMeta(t, { prefix: 'cli-colour-', nodes: ['n1'] });
  const coloured = await ballast(['node', 'ls'], { ...meta.env, NO_COLOR: '', FORCE_COLOR: '1' });
  t.equal(coloured.code, 0, coloured.stderr);
  t.ok(coloured.stdout.includes(ESC), 'colour when forced and NO_COLOR is not set');
  const plain = await ballast(['node', 'ls'], { ...meta.env, NO_COLOR: '1', FORCE_COLOR: '1' });
  t.equal(plain.code, 0);
  t.notOk(plain.stdout.includes(ESC), 'NO_COLOR wins over FORCE_COLOR');
  t.match(plain.stdout, /n1\s+up/);
  for (const args of [
    [],
    ['volume', 'ls'],
    ['volume', 'rm'],
    ['node', 'drain'],
    ['cluster', 'status'],
    ['completion'],
  ]) {
    const help = await ballast([...args, '--help']);
    t.equal(help.code, 0);
    t.match(
      help.stdout,
      /\nExamples:\n {2}(ballast|source) /,
      `${args.join(' ') || 'ballast'} --help has examples`,
    );
  }
});
