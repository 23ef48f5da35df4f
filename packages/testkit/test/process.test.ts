import { existsSync } from 'node:fs';
import t from 'tap';
import { Fleet, ballastdProcess, freePort, isAlive, waitFor } from '../src/index.js';

// A storage node refuses to start without a data-plane secret.
const SECRET = 'testkit-data-plane-secret-0123456789';

async function get(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

t.test('free ports are distinct', async (t) => {
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  t.equal(new Set(ports).size, 20);
});

t.test('a real ballastd: ready, SIGSTOP/SIGCONT, SIGKILL, restart, stop', async (t) => {
  const fleet = Fleet.forTest(t);
  const proc = fleet.add(
    ballastdProcess({
      role: 'node',
      id: 'n1',
      args: ['--id', 'n1', '--data-dir', fleet.path('n1')],
      logFile: fleet.path('n1.log'),
      env: { BALLAST_DATA_PLANE_SECRET: SECRET },
    }),
  );
  const ep = (await proc.start()) as Record<string, string>;
  t.match(ep.health, /^http:\/\/127\.0\.0\.1:\d+\/healthz$/);
  t.equal(await get(ep.health!), 200, 'healthy');
  t.ok(existsSync(fleet.path('n1')), 'data dir created');

  proc.pause();
  t.ok(proc.paused);
  const stalled = await Promise.race([
    get(ep.health!).then(() => 'answered'),
    new Promise((r) => setTimeout(() => r('no answer'), 300)),
  ]);
  t.equal(stalled, 'no answer', 'a stopped process does not answer');
  proc.resume();
  t.equal(await get(ep.health!), 200, 'answers again after SIGCONT');

  const firstPid = proc.pid!;
  const status = await proc.kill();
  t.equal(status.signal, 'SIGKILL');
  t.notOk(isAlive(firstPid));

  const ep2 = (await proc.restart()) as Record<string, string>;
  t.not(proc.pid, firstPid, 'a new incarnation');
  t.equal(await get(ep2.health!), 200);

  const stopped = await proc.stop();
  t.equal(stopped.code, 0, 'SIGTERM shuts down cleanly');
  t.match(proc.tail(), /"msg":"stopped"/);
});

t.test('start-up failure is reported with the log', async (t) => {
  const fleet = Fleet.forTest(t);
  const proc = fleet.add(
    ballastdProcess({
      role: 'node',
      id: 'bad',
      args: ['--id', 'BAD ID', '--data-dir', fleet.path('x')],
      logFile: fleet.path('bad.log'),
    }),
  );
  await t.rejects(proc.start(), /exited \(code 2.*before it was ready[\s\S]*setting "id"/);
});

t.test('a child exits by itself when its parent dies', async (t) => {
  const fleet = Fleet.forTest(t);
  // A short-lived parent that starts ballastd with BALLAST_PARENT_PID pointing at itself.
  const { spawn } = await import('node:child_process');
  const parent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 100000)'], {
    stdio: 'ignore',
  });
  t.teardown(() => parent.kill('SIGKILL'));
  const proc = fleet.add(
    ballastdProcess({
      role: 'node',
      id: 'orphan',
      args: ['--id', 'orphan', '--data-dir', fleet.path('o')],
      logFile: fleet.path('o.log'),
      env: { BALLAST_PARENT_PID: String(parent.pid), BALLAST_DATA_PLANE_SECRET: SECRET },
    }),
  );
  await proc.start();
  parent.kill('SIGKILL');
  const status = await proc.exited();
  t.equal(status.code, 0, 'exited cleanly after noticing');
  await waitFor('log line', () => /parent \d+ is gone/.test(proc.tail()));
});
