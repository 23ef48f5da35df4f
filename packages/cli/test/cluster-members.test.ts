// `ballast cluster members add|remove` against a real 3-member `ballastd meta` cluster.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Fleet, ballastdProcess, freePort, waitFor } from '@ballast/testkit';

const binDir = fileURLToPath(new URL('../../bin/', import.meta.url));

function ballast(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(binDir, 'ballast.js'), ...args],
      { env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

t.test('cluster members remove and add: tables, --json and exit codes', async (t) => {
  const fleet = Fleet.forTest(t, 'cli-members-');
  const token = randomBytes(16).toString('hex');
  const ids = ['m1', 'm2', 'm3'];
  const urls = new Map<string, string>();
  for (const id of ids) urls.set(id, `http://127.0.0.1:${await freePort()}`);
  const peers = ids.map((id) => `${id}=${urls.get(id)!}`).join(',');
  await Promise.all(
    ids.map((id) =>
      fleet
        .add(
          ballastdProcess({
            role: 'meta',
            id,
            args: [
              '--id',
              id,
              '--data-dir',
              fleet.path(id),
              '--listen',
              urls.get(id)!.slice('http://'.length),
              '--peers',
              peers,
            ],
            env: { BALLAST_TOKEN: token },
            logFile: fleet.path(`${id}.log`),
          }),
        )
        .start(),
    ),
  );
  // Talk to m1 only: it stays a member throughout.
  const env = { BALLAST_ENDPOINT: urls.get('m1')!, BALLAST_TOKEN: token };
  const leaderSeen = () =>
    waitFor('a leader seen by m1', async () => {
      const r = await ballast(['cluster', 'status', '--json'], env);
      return r.code === 0 && (JSON.parse(r.stdout) as { leader: string | null }).leader !== null;
    });
  await leaderSeen();

  const bad = await ballast(['cluster', 'members', 'add', 'm9', 'not-a-url'], env);
  t.equal(bad.code, 2, 'a malformed URL is a usage error');
  t.match(bad.stderr, /not a member API URL/);

  const badId = await ballast(['cluster', 'members', 'add', 'M9!', 'http://127.0.0.1:9'], env);
  t.equal(badId.code, 7, 'an invalid member id is refused by the API (400)');

  const clash = await ballast(['cluster', 'members', 'add', 'm2', 'http://127.0.0.1:9'], env);
  t.equal(clash.code, 4, 'an existing id with another URL is a conflict');
  t.match(clash.stderr, /already exists/);

  const removed = await ballast(['cluster', 'members', 'remove', 'm3', '--yes'], env);
  t.equal(removed.code, 0, removed.stderr);
  t.match(removed.stdout, /member m3 removed/);
  t.match(removed.stdout, /MEMBER\s+ROLE\s+API/);
  t.notMatch(removed.stdout, /\bm3\b.*http/);

  const again = await ballast(['cluster', 'members', 'remove', 'm3', '--json', '--yes'], env);
  t.equal(again.code, 3, `removing a non-member is not found: ${again.stderr}`);

  await leaderSeen();
  const json = await ballast(['cluster', 'members', 'rm', 'm2', '--json', '-y'], env);
  t.equal(json.code, 0, json.stderr);
  const body = JSON.parse(json.stdout) as { members: Array<{ id: string }> };
  t.same(
    body.members.map((m) => m.id),
    ['m1'],
    'only m1 is left',
  );

  await leaderSeen();
  const last = await ballast(['cluster', 'members', 'remove', 'm1', '--yes'], env);
  t.equal(last.code, 4, `the last voter cannot be removed: ${last.stderr}`);
  t.match(last.stderr, /last voter/);
});
