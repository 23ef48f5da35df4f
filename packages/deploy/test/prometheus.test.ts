// The real Prometheus (Debian's binary) against a real cluster: `ballast dev up --agent` (3 meta
// members, 3 storage nodes, an agent), scraped with the repository's prometheus.yml (targets moved
// to the dev cluster's loopback ports) and alerts.yml. A 3-replica ext4 volume is mounted through
// the agent's Docker plugin socket and fio runs a random read/write load with fsyncs on it. Then
// every PromQL expression of every dashboard panel and every alert rule goes through Prometheus's
// HTTP API: each must parse, each panel query must return finite data, each variable must list
// values, each rule must evaluate cleanly, every metric an alert names must exist, and a healthy
// cluster must raise no alert.
//
// Needs root, /dev/fuse, loop devices, nbdfuse, fio and prometheus (apt-get install prometheus).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { sleep, waitFor } from '@ballast/testkit';
import {
  DASHBOARD_DIR,
  expandForPrometheus,
  loadDashboards,
  metricNames,
  panelQueries,
  variableQueries,
} from '../src/index.js';
import {
  activeTargets,
  deriveConfig,
  hasFiniteValue,
  instantQuery,
  labelValues,
  loadedRules,
  prometheusPort,
  startPrometheus,
} from './helpers/prometheus.js';
import { ballastCli, cleanUpUnder, commandExists, pluginCall, run } from './helpers/run.js';

const SCRAPE_SECONDS = 1;
/** What the test substitutes for Grafana's $__rate_interval: several scrapes wide. */
const RATE_WINDOW = '10s';
/** Scrapes of the loaded volume to wait for before evaluating (rates need two or more). */
const SCRAPES_UNDER_LOAD = 5;
const VOLUME = 'promload';
const MAX_CHURN_ROUNDS = 300;
const CHURN_PAUSE_MS = 1_000;

interface ClusterFile {
  token: string;
  meta: Array<{ api: string }>;
  nodes: Array<{ metrics: string }>;
  agents: Array<{ metrics: string; pluginSocket: string }>;
}

function hostPort(url: string): string {
  return new URL(url).host;
}

t.test('every dashboard and alert query runs against a loaded cluster', async (t) => {
  if (process.getuid?.() !== 0) {
    t.fail('needs root (loop devices, mounts)');
    return;
  }
  for (const [tool, pkg] of [
    ['prometheus', 'prometheus'],
    ['fio', 'fio'],
    ['nbdfuse', 'libnbd-bin'],
    ['mkfs.ext4', 'e2fsprogs'],
  ] as const) {
    if (!(await commandExists(tool))) {
      t.fail(`${tool} is missing: apt-get install ${pkg}`);
      return;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'ballast-deploy-prom-'));
  const clusterDir = join(dir, 'cluster');
  const cli = ballastCli();
  let fio: ChildProcess | undefined = undefined;
  let churning = false;
  let churn: Promise<void> = Promise.resolve();
  let snapshotting: Promise<void> = Promise.resolve();
  t.teardown(async () => {
    churning = false;
    await churn;
    await snapshotting;
    if (fio !== undefined && fio.exitCode === null && fio.signalCode === null) {
      // Unmount fails (busy) while fio still holds files there; wait for it to be gone.
      const exited = new Promise((resolve) => fio!.once('exit', resolve));
      fio.kill('SIGKILL');
      await exited;
    }
    const socket = join(dir, 'plugin.sock');
    await pluginCall(socket, 'VolumeDriver.Unmount', { Name: VOLUME, ID: 'prom-test' }).catch(
      () => undefined,
    );
    await pluginCall(socket, 'VolumeDriver.Remove', { Name: VOLUME }).catch(() => undefined);
    await run(process.execPath, [cli, 'dev', 'down', '--dir', clusterDir], { timeoutMs: 60_000 });
    await cleanUpUnder(dir);
    if (!t.passing()) {
      for (const log of ['prometheus/prometheus.log', 'fio.log']) {
        try {
          t.comment(`===== ${log}\n${readFileSync(join(dir, log), 'utf8').slice(-4000)}`);
        } catch {
          // not written
        }
      }
    }
    if (process.env.BALLAST_KEEP_TEST_DIRS) t.comment(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  // The cluster. A short scrub interval so the scrub metrics have data within the test.
  const up = await run(
    process.execPath,
    [
      cli,
      'dev',
      'up',
      '--dir',
      clusterDir,
      '--agent',
      '--plugin-socket',
      join(dir, 'plugin.sock'),
      '--json',
    ],
    { timeoutMs: 180_000, env: { ...process.env, BALLAST_SCRUB_INTERVAL: '3s' } },
  );
  if (up.code !== 0) {
    t.fail(`ballast dev up failed: ${up.stderr}`);
    for (const f of ['m1', 'n1', 'agent']) {
      try {
        t.comment(readFileSync(join(clusterDir, 'logs', `${f}.log`), 'utf8').slice(-3000));
      } catch {
        // no log
      }
    }
    return;
  }
  const cluster = JSON.parse(up.stdout) as ClusterFile;
  const agent = cluster.agents[0]!;

  // Prometheus with the repository's config, pointed at this cluster.
  const promPort = await prometheusPort();
  const config = deriveConfig(
    {
      'ballast-meta': cluster.meta.map((m) => hostPort(m.api)),
      'ballast-node': cluster.nodes.map((n) => hostPort(n.metrics)),
      'ballast-agent': cluster.agents.map((a) => hostPort(a.metrics)),
      prometheus: [`127.0.0.1:${promPort}`],
    },
    SCRAPE_SECONDS,
  );
  const promDir = join(dir, 'prometheus');
  mkdirSync(promDir);
  const prometheus = await startPrometheus(promDir, config, promPort);
  t.teardown(() => prometheus.process.stop(10_000));

  // A volume under load: create, mount (ext4 on nbdfuse + loop), fio with fsyncs.
  const created = await pluginCall(agent.pluginSocket, 'VolumeDriver.Create', {
    Name: VOLUME,
    Opts: { size: '256MiB', replicas: '3' },
  });
  t.equal(created.body.Err ?? '', '', `create: ${JSON.stringify(created.body)}`);
  const mounted = await pluginCall(agent.pluginSocket, 'VolumeDriver.Mount', {
    Name: VOLUME,
    ID: 'prom-test',
  });
  const mountpoint = mounted.body.Mountpoint as string | undefined;
  t.ok(mountpoint, `mount: ${JSON.stringify(mounted.body)}`);
  if (!mountpoint) return;
  fio = spawn(
    'fio',
    [
      '--name=promload',
      `--directory=${mountpoint}`,
      '--size=48m',
      '--rw=randrw',
      '--rwmixread=50',
      '--bs=4k',
      '--direct=1',
      '--ioengine=psync',
      '--fsync=16',
      '--time_based',
      '--runtime=240',
      `--output=${join(dir, 'fio.log')}`,
    ],
    { stdio: 'ignore' },
  );

  // The map changes while the volume is in use (volumes come and go, as in any cluster), so the
  // Raft log is written and its latency histograms have samples. Bounded; stopped at the end.
  churning = true;
  churn = (async () => {
    for (let i = 0; churning && i < MAX_CHURN_ROUNDS; i++) {
      const name = `${VOLUME}-churn-${i}`;
      await pluginCall(agent.pluginSocket, 'VolumeDriver.Create', {
        Name: name,
        Opts: { size: '16MiB', replicas: '1' },
      }).catch(() => undefined);
      await pluginCall(agent.pluginSocket, 'VolumeDriver.Remove', { Name: name }).catch(
        () => undefined,
      );
      await sleep(CHURN_PAUSE_MS);
    }
  })();
  // Snapshots of the loaded volume now and then (their pause is a dashboard panel), keeping the
  // last three. Bounded; stopped with the churn.
  snapshotting = (async () => {
    const api = cluster.meta[0]!.api;
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).catch(() => undefined);
    for (let i = 0; churning && i < MAX_CHURN_ROUNDS; i++) {
      await call('POST', `/v1/volumes/${VOLUME}/snapshots?waitMs=20000`, { name: `s${i}` });
      if (i >= 3) await call('DELETE', `/v1/volumes/${VOLUME}/snapshots/s${i - 3}`);
      await sleep(3 * CHURN_PAUSE_MS);
    }
  })();
  // Every target up, and enough scrapes of the loaded volume's engine for rates and quantiles.
  await waitFor(
    'every scrape target to be up',
    async () => {
      const targets = await activeTargets(prometheus.url);
      return targets.length > 0 && targets.every((x) => x.health === 'up');
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  await waitFor(
    `${SCRAPES_UNDER_LOAD} scrapes of writes to ${VOLUME}`,
    async () => {
      const r = await instantQuery(
        prometheus.url,
        `count_over_time(ballast_agent_volume_ops_total{volume="${VOLUME}", op="write"}[1m]) >= ${SCRAPES_UNDER_LOAD} and rate(ballast_agent_volume_ops_total{volume="${VOLUME}", op="write"}[${RATE_WINDOW}]) > 0`,
      );
      return r.ok && r.data.result.length > 0;
    },
    { timeoutMs: 120_000, intervalMs: 1_000 },
  );
  await waitFor(
    'Raft log writes within the rate window',
    async () => {
      const r = await instantQuery(
        prometheus.url,
        `sum(rate(ballast_raft_disk_write_seconds_count[${RATE_WINDOW}])) > 0`,
      );
      return r.ok && r.data.result.length > 0;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  await waitFor(
    'snapshot cuts within the rate window',
    async () => {
      const r = await instantQuery(
        prometheus.url,
        `sum(rate(ballast_agent_volume_op_duration_seconds_count{volume="${VOLUME}", op="snapshot"}[${RATE_WINDOW}])) > 0`,
      );
      return r.ok && r.data.result.length > 0;
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  t.equal(fio.exitCode, null, 'fio is still running the load');

  // Dashboards: every panel query parses and returns finite data; every variable lists values.
  const dashboards = loadDashboards(DASHBOARD_DIR);
  t.equal(dashboards.length, 4, 'four dashboards');
  const noData: string[] = [];
  for (const d of dashboards) {
    const vars = d.json.templating.list.map((v) => v.name);
    for (const q of panelQueries([d])) {
      const expr = expandForPrometheus(q.expr, vars, RATE_WINDOW);
      const result = await instantQuery(prometheus.url, expr);
      if (!result.ok) {
        t.fail(`${q.dashboard} / ${q.panel} / ${q.refId} does not run: ${result.error}\n${expr}`);
        continue;
      }
      if (!result.data.result.some(hasFiniteValue)) {
        noData.push(`${q.dashboard} / ${q.panel} / ${q.refId}: ${expr} [${metricNames(expr)}]`);
      }
    }
  }
  t.same(noData, [], 'every panel query returns data (a list means metrics are missing)');
  for (const v of variableQueries(dashboards)) {
    const values = await labelValues(prometheus.url, v.label, v.metric);
    t.ok(
      values.ok && values.data.length > 0,
      `${v.dashboard}: variable $${v.name} lists values of ${v.label} on ${v.metric}`,
    );
  }

  // Alert rules: loaded, evaluated without error, every metric they name exists, none firing.
  const rules = await waitFor(
    'every alert rule to be evaluated',
    async () => {
      const all = await loadedRules(prometheus.url);
      return all.length > 0 && all.every((r) => r.health !== 'unknown') && all;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  const expected = (
    readFileSync(join(DASHBOARD_DIR, '..', '..', 'prometheus', 'alerts.yml'), 'utf8').match(
      /^\s+- alert: /gm,
    ) ?? []
  ).length;
  t.equal(rules.length, expected, `all ${expected} rules of alerts.yml are loaded`);
  const missingMetrics = new Set<string>();
  for (const rule of rules) {
    t.equal(
      rule.health,
      'ok',
      `${rule.name} evaluates${rule.lastError ? `: ${rule.lastError}` : ''}`,
    );
    const parsed = await instantQuery(prometheus.url, rule.query);
    t.ok(parsed.ok, `${rule.name}: its query runs through the API`);
    for (const name of metricNames(rule.query)) {
      const present = await instantQuery(prometheus.url, `count(${name})`);
      if (!(present.ok && present.data.result.length > 0))
        missingMetrics.add(`${rule.name}: ${name}`);
    }
    t.not(rule.state, 'firing', `${rule.name} does not fire on a healthy cluster`);
  }
  t.same([...missingMetrics], [], 'every metric an alert rule names is exported');
  churning = false;
  await churn;
  await snapshotting;
});
