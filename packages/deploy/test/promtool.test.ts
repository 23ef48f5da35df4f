// promtool on the repository's Prometheus files: the config and the rules are valid, and the
// alert rules' unit tests (cluster/prometheus/alerts.test.yml) pass.
import { join } from 'node:path';
import t from 'tap';
import { PROMETHEUS_DIR } from '../src/paths.js';
import { commandExists, run } from './helpers/run.js';

t.before(async () => {
  if (!(await commandExists('promtool'))) {
    throw new Error('promtool is missing: apt-get install prometheus');
  }
});

for (const [what, args] of [
  ['check config', ['check', 'config', 'prometheus.yml']],
  ['check rules', ['check', 'rules', 'alerts.yml']],
  ['test rules', ['test', 'rules', 'alerts.test.yml']],
] as const) {
  t.test(`promtool ${what}`, async (t) => {
    const result = await run('promtool', [...args], { cwd: PROMETHEUS_DIR, timeoutMs: 60_000 });
    t.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    t.match(result.stdout + result.stderr, /SUCCESS/);
  });
}

t.test('promtool rejects a broken rule file (the check is real)', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ballast-promtool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'bad.yml'),
    'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m]) >\n',
  );
  const result = await run('promtool', ['check', 'rules', join(dir, 'bad.yml')]);
  t.not(result.code, 0, 'a rule with a PromQL syntax error fails the check');
});
