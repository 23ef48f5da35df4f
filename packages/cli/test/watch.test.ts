// `--watch` on volume ls, node ls and task ls against a real `ballastd meta`: the list is printed
// again when it changes (and only then), SIGINT/SIGTERM and a closed pipe end it with exit 0 and
// no stack trace. Each watch is a child process this test kills.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { sleep, waitFor } from '@ballast/testkit';
import { binDir } from './helpers/exec.js';
import { startMeta } from './helpers/meta.js';

interface Watch {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  exited: Promise<number | string>;
}

function watch(
  t: { teardown(fn: () => void): void },
  args: string[],
  env: Record<string, string>,
): Watch {
  const child = spawn(process.execPath, [join(binDir, 'ballast.js'), ...args], {
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, out: () => out, err: () => err, exited };
}

const count = (text: string, what: RegExp) => (text.match(what) ?? []).length;

t.test('volume ls, node ls and task ls --watch print again on change', async (t) => {
  const meta = await startMeta(t, { prefix: 'cli-watch-', nodes: ['n1', 'n2'] });
  const { env, api } = meta;
  t.equal(
    (await api('POST', '/v1/volumes', { name: 'pgdata', size: '1GiB', replicas: 1 })).status,
    201,
  );

  const volumes = watch(t, ['volume', 'ls', '--watch'], env);
  await waitFor('the first table', () => /pgdata/.test(volumes.out()), { timeoutMs: 30_000 });
  // Nothing changes: nothing more is printed (the watch looks every second).
  await sleep(2_500);
  t.equal(count(volumes.out(), /^NAME\s+SIZE/gm), 1, 'one table while nothing changes');
  t.equal(
    (await api('POST', '/v1/volumes', { name: 'second', size: '2GiB', replicas: 1 })).status,
    201,
  );
  await waitFor('the table again', () => /second\s+2 GiB/.test(volumes.out()), {
    timeoutMs: 30_000,
  });
  const tables = volumes.out().split(/\n(?=NAME\s+SIZE)/);
  t.equal(tables.length, 2, 'printed again once, after a blank line');
  t.notMatch(tables[0]!, /second/);
  t.match(tables[1]!, /pgdata[\s\S]*second/);
  volumes.child.kill('SIGINT');
  t.equal(await volumes.exited, 0, 'SIGINT ends it with exit 0');
  t.equal(volumes.err(), '', 'no stack trace');

  // -o json: one line per change.
  const json = watch(t, ['node', 'ls', '-w', '-o', 'json'], env);
  await waitFor('the first list', () => json.out().includes('\n'), { timeoutMs: 30_000 });
  t.equal((await api('POST', '/v1/nodes/n1/cordon', { reason: 'watch test' })).status, 200);
  await waitFor('the cordon', () => /"cordoned"/.test(json.out()), { timeoutMs: 30_000 });
  const lines = json.out().trim().split('\n');
  const parsed = lines.map((l) => JSON.parse(l) as Array<{ id: string; state: string }>);
  t.same(parsed[0]!.find((n) => n.id === 'n1')?.state, 'up');
  t.same(parsed.at(-1)!.find((n) => n.id === 'n1')?.state, 'cordoned');
  json.child.kill('SIGTERM');
  t.equal(await json.exited, 0, 'SIGTERM ends it with exit 0');
  t.equal(json.err(), '');

  // task ls -o name: empty at first, then the rebuild of a replica added by hand.
  const tasks = watch(t, ['task', 'ls', '--watch', '-o', 'name'], env);
  await sleep(1_500);
  t.equal(tasks.out(), '', 'no tasks, nothing printed');
  const pg = (await api('GET', '/v1/volumes/pgdata')).body as {
    replicas: Array<{ nodeId: string }>;
  };
  const target = pg.replicas[0]!.nodeId === 'n1' ? 'n2' : 'n1';
  t.equal((await api('POST', '/v1/volumes/pgdata/replicas', { nodeId: target })).status, 201);
  await waitFor('the task', () => /^task\/\S+\n$/.test(tasks.out()), { timeoutMs: 30_000 });
  tasks.child.kill('SIGINT');
  t.equal(await tasks.exited, 0);

  // A closed pipe (`| head` that has stopped reading) ends it quietly too.
  const piped = watch(t, ['node', 'ls', '--watch'], env);
  piped.child.stdout.destroy();
  t.equal(await piped.exited, 0, 'closed pipe: exit 0');
  t.notMatch(piped.err(), /EPIPE|Error/, 'no stack trace');
});
