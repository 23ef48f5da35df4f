// Destructive commands ask first on a terminal, refuse without one unless --yes, and change
// nothing when refused or declined; against a real `ballastd meta`. The terminal is a real
// pseudo-terminal from util-linux `script`.
import { join } from 'node:path';
import t from 'tap';
import { ballast, binDir } from './helpers/exec.js';
import { startMeta } from './helpers/meta.js';

/** `ballast ARGS` on a pseudo-terminal, typing `input`; its output is the terminal's. */
function onTerminal(args: string[], input: string, env: Record<string, string>) {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, join(binDir, 'ballast.js'), ...args].map(quote).join(' ');
  return new Promise<{ code: number; output: string }>((resolve) => {
    import('node:child_process').then(({ spawn }) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: { ...process.env, NO_COLOR: '1', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.stdin.end(input);
      child.on('close', (code) => resolve({ code: code ?? 1, output }));
    });
  });
}

interface Volume {
  replicas: Array<{ nodeId: string }>;
}

t.test('destructive commands: refuse without a terminal, ask on one, --yes skips', async (t) => {
  const meta = await startMeta(t, { prefix: 'cli-confirm-', nodes: ['n1', 'n2'] });
  const { env, api } = meta;
  t.equal(
    (await api('POST', '/v1/volumes', { name: 'pgdata', size: '1GiB', replicas: 2 })).status,
    201,
  );
  t.equal(
    (await api('POST', '/v1/volumes', { name: 'scratch', size: '1GiB', replicas: 1 })).status,
    201,
  );
  const before = (await api('GET', '/v1/volumes/pgdata')).body as Volume;

  // No terminal on stdin (execFile gives a pipe) and no --yes: one line, exit 2, nothing sent.
  for (const [args, action] of [
    [['volume', 'rm', 'pgdata'], 'delete volume pgdata'],
    [['volume', 'delete', 'pgdata'], 'delete volume pgdata'],
    [['node', 'remove', 'n2'], 'remove node n2'],
    [['node', 'drain', 'n2'], 'drain node n2'],
    [['cluster', 'members', 'remove', 'm1'], 'remove meta member m1'],
    [['replica', 'rm', 'pgdata', 'n1'], 'remove the replica of pgdata on n1'],
    // The agent socket does not exist: refusing is decided before any agent is asked.
    [
      ['volume', 'detach', 'pgdata', '--force', '--agent-socket', '/nonexistent.sock'],
      'detach volume pgdata by force',
    ],
    [
      ['volume', 'attach', 'pgdata', '--force', '--agent-socket', '/nonexistent.sock'],
      'take volume pgdata over by force',
    ],
  ] as Array<[string[], string]>) {
    const r = await ballast(args, env);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.equal(
      r.stderr,
      `error: refusing to ${action} without confirmation (stdin is not a terminal): pass --yes\n`,
    );
    t.equal(r.stdout, '');
  }
  t.same((await api('GET', '/v1/volumes/pgdata')).body, before, 'the volume is untouched');
  const nodes = (await api('GET', '/v1/nodes')).body as {
    items: Array<{ id: string; state: string }>;
  };
  t.same(
    nodes.items.map((n) => [n.id, n.state]),
    [
      ['n1', 'up'],
      ['n2', 'up'],
    ],
    'no node drained or removed',
  );
  const members = (await api('GET', '/v1/cluster')).body as { members: unknown[] };
  t.equal(members.members.length, 1, 'the member is still there');
  // Without --force, detach destroys nothing and asks nothing (it fails on the missing agent).
  const plain = await ballast(
    ['volume', 'detach', 'pgdata', '--agent-socket', '/nonexistent.sock'],
    env,
  );
  t.equal(plain.code, 5, 'a plain detach goes to the agent');

  // On a terminal: anything but y keeps the volume.
  const declined = await onTerminal(['volume', 'rm', 'pgdata'], 'n\n', env);
  t.equal(declined.code, 1, declined.output);
  t.match(declined.output, /Delete volume pgdata and all its data\? \[y\/N\]/);
  t.match(declined.output, /error: not confirmed: nothing was changed/);
  t.equal((await api('GET', '/v1/volumes/pgdata')).status, 200, 'declined: still there');
  const eof = await onTerminal(['node', 'drain', 'n2'], '\x04', env);
  t.equal(eof.code, 1, `end of input is a no: ${eof.output}`);
  t.match(eof.output, /Drain node n2: move every replica off it and place none there\? \[y\/N\]/);
  t.match(((await api('GET', '/v1/nodes/n2')).body as { state: string }).state, 'up');

  const accepted = await onTerminal(['volume', 'rm', 'pgdata'], 'y\n', env);
  t.equal(accepted.code, 0, accepted.output);
  t.match(accepted.output, /volume pgdata deleted/);
  t.equal((await api('GET', '/v1/volumes/pgdata')).status, 404, 'y: deleted');

  // --yes: no question, also without a terminal.
  const yes = await ballast(['volume', 'rm', 'scratch', '--yes'], env);
  t.equal(yes.code, 0, yes.stderr);
  t.equal(yes.stdout, 'volume scratch deleted\n');
  t.equal((await api('GET', '/v1/volumes/scratch')).status, 404);
  const short = await ballast(['volume', 'rm', 'scratch', '-y'], env);
  t.equal(short.code, 3, 'asked nothing, and meta says it is gone');
});

t.test('dev down --purge asks too; plain dev down does not', async (t) => {
  const { mkdtempSync, writeFileSync, existsSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'cli-purge-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'keep'), 'data');
  const r = await ballast(['dev', 'down', '--dir', dir, '--purge']);
  t.equal(r.code, 2);
  t.equal(
    r.stderr,
    `error: refusing to purge ${dir} without confirmation (stdin is not a terminal): pass --yes\n`,
  );
  t.ok(existsSync(join(dir, 'keep')), 'nothing removed');
});
