// `ballast version` against a real three-member `ballast dev up` cluster: the client's version
// and every member's, a paused member shown unreachable within about a second; also
// `dev down --purge` refusing without --yes.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { isAlive, waitFor } from '@ballast/testkit';
import { ballast } from './helpers/exec.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const noCluster = { BALLAST_CLUSTER: '', BALLAST_ENDPOINT: '', XDG_CONFIG_HOME: '/nonexistent' };

interface Report {
  client: { version: string; node: string };
  members: Array<{
    id: string;
    api: string;
    role: string;
    reachable: boolean;
    version: string | null;
    node: string | null;
    error?: string;
  }> | null;
}

t.test('version without a cluster: the client alone', async (t) => {
  const r = await ballast(['version'], noCluster);
  t.equal(r.code, 0, r.stderr);
  t.equal(
    r.stdout,
    `Client  ${pkg.version} (Node.js ${process.version})\nMeta members: no cluster configured (--cluster, --endpoint or BALLAST_CLUSTER)\n`,
  );
  const json = JSON.parse((await ballast(['version', '-o', 'json'], noCluster)).stdout) as Report;
  t.same(json, { client: { version: pkg.version, node: process.version }, members: null });
  const client = await ballast(['version', '--client', '--endpoint', 'http://127.0.0.1:1']);
  t.equal(client.code, 0);
  t.match(client.stdout, /^Client {2}\S+ \(Node\.js v\d+/);
  t.notMatch(client.stdout, /MEMBER/, '--client asks no member');
});

t.test('version of every member; a paused one is unreachable within about a second', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-version-'));
  let pids: number[] = [];
  t.teardown(async () => {
    await ballast(['dev', 'down', '--dir', dir]);
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const up = await ballast(['dev', 'up', '--dir', dir, '--meta', '3', '--nodes', '0', '--json']);
  t.equal(up.code, 0, up.stderr);
  const file = JSON.parse(up.stdout) as { meta: Array<{ id: string; api: string; pid: number }> };
  pids = file.meta.map((m) => m.pid);
  const env = { BALLAST_CLUSTER: join(dir, 'cluster.json') };

  // dev up without nodes does not wait for an election: wait until a member says it leads.
  const report = await waitFor('a leader', async () => {
    const all = await ballast(['version', '-o', 'json'], env);
    const r = JSON.parse(all.stdout) as Report;
    return all.code === 0 && r.members!.some((m) => m.role === 'leader') ? r : undefined;
  });
  t.equal(report.client.version, pkg.version);
  t.same(
    report.members!.map((m) => [m.id, m.api, m.reachable, m.version, m.node]),
    file.meta.map((m) => [m.id, m.api, true, pkg.version, process.version]),
  );
  t.equal(report.members!.filter((m) => m.role === 'leader').length, 1, 'one leader');
  const table = await ballast(['version'], env);
  t.match(table.stdout, /MEMBER\s+API\s+VERSION\s+NODE\.JS\s+STATE/);
  for (const m of file.meta) {
    t.match(
      table.stdout,
      new RegExp(
        `${m.id}\\s+${m.api}\\s+${pkg.version.replace(/\./g, '\\.')}\\s+v\\d+\\S*\\s+(leader|follower)`,
      ),
    );
  }
  const yaml = parseYaml((await ballast(['version', '-o', 'yaml'], env)).stdout) as Report;
  t.same(
    yaml.members?.map((m) => m.version),
    report.members!.map((m) => m.version),
    '-o yaml',
  );

  t.equal((await ballast(['dev', 'pause', '--dir', dir, 'm2'])).code, 0);
  const started = Date.now();
  const paused = await ballast(['version'], env);
  const tookMs = Date.now() - started;
  t.equal(paused.code, 0, 'others answered');
  t.match(paused.stdout, /m2\s+http:\/\/\S+\s+-\s+-\s+unreachable \(no answer within 1000 ms\)/);
  t.match(paused.stdout, /m1\s+\S+\s+\d+\.\d+\.\d+\s+v\d+/);
  // A second for the probes plus the start of a node process; far from the 30 s of a request.
  t.ok(tookMs < 6_000, `answered in ${tookMs} ms`);
  const m2 = file.meta.find((m) => m.id === 'm2')!;
  const only = await ballast(['version', '--endpoint', m2.api, '--token', 'x'.repeat(32)]);
  t.equal(only.code, 5, 'no member answered: exit 5');
  t.match(only.stdout, /unreachable \(no answer within 1000 ms\)/);
  t.equal((await ballast(['dev', 'resume', '--dir', dir, 'm2'])).code, 0);

  // dev down --purge without --yes and without a terminal: refused, everything still there.
  const refused = await ballast(['dev', 'down', '--dir', dir, '--purge']);
  t.equal(refused.code, 2);
  t.match(
    refused.stderr,
    /^error: refusing to purge .* without confirmation \(stdin is not a terminal\): pass --yes\n$/,
  );
  t.ok(pids.every(isAlive), 'still running');
  const purged = await ballast(['dev', 'down', '--dir', dir, '--purge', '--yes']);
  t.equal(purged.code, 0, purged.stderr);
  t.match(purged.stdout, /stopped 3 process\(es\); removed /);
  t.notOk(existsSync(dir), 'removed');
});
