// The committed Grafana dashboards and provisioning: the JSON is exactly what src/dashboards.ts
// renders, and it has the shape Grafana needs (unique ids, a layout inside the 24-column grid with
// no overlaps, every query on the provisioned datasource, every variable used defined). Whether
// every query returns data is checked against a real Prometheus in prometheus.test.ts.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import {
  DASHBOARDS,
  DASHBOARD_DIR,
  DATASOURCE_UID,
  GRAFANA_DIR,
  GRID_WIDTH,
  COMPOSE_FILE,
  dashboardFileText,
  expandForPrometheus,
  loadDashboards,
  metricNames,
  renderDashboard,
} from '../src/index.js';

const UNITS = new Set([
  'none',
  'short',
  'bytes',
  'Bps',
  'iops',
  'ops',
  's',
  'percentunit',
  'reqps',
]);

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults: { unit?: string } };
  targets?: Array<{ refId: string; expr: string; datasource: { uid: string } }>;
}

t.test('the committed JSON is what the generator renders', async (t) => {
  const files = readdirSync(DASHBOARD_DIR).filter((f) => f.endsWith('.json'));
  t.same(files.sort(), DASHBOARDS.map((d) => `${d.file}.json`).sort(), 'one file per dashboard');
  for (const spec of DASHBOARDS) {
    const committed = readFileSync(join(DASHBOARD_DIR, `${spec.file}.json`), 'utf8');
    t.equal(
      committed,
      dashboardFileText(spec),
      `${spec.file}.json is current (run: npm run dashboards -w @ballast/deploy)`,
    );
  }
});

t.test('the four dashboards the issue asks for', async (t) => {
  const titles = DASHBOARDS.map((d) => d.title);
  t.same(titles, [
    'Ballast / Cluster overview',
    'Ballast / Volume I/O',
    'Ballast / Node',
    'Ballast / Raft',
  ]);
  const uids = DASHBOARDS.map((d) => d.uid);
  t.equal(new Set(uids).size, uids.length, 'dashboard uids are unique');
  for (const uid of uids) t.ok(uid.length <= 40 && /^[a-z0-9-]+$/.test(uid), `uid ${uid}`);
});

t.test('every dashboard has the shape Grafana loads', async (t) => {
  for (const { file, json } of loadDashboards(DASHBOARD_DIR)) {
    const panels = json.panels as unknown as Panel[];
    t.ok(panels.length > 0, `${file}: has panels`);
    const ids = panels.map((p) => p.id);
    t.equal(new Set(ids).size, ids.length, `${file}: panel ids are unique`);
    const occupied = new Map<string, string>();
    const vars = json.templating.list.map((v) => v.name);
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      t.ok(
        Number.isInteger(x) && Number.isInteger(y) && w > 0 && h > 0 && x + w <= GRID_WIDTH,
        `${file} / ${p.title}: inside the grid (${JSON.stringify(p.gridPos)})`,
      );
      for (let cx = x; cx < x + w; cx++) {
        for (let cy = y; cy < y + h; cy++) {
          const key = `${cx},${cy}`;
          const other = occupied.get(key);
          if (other !== undefined) t.fail(`${file}: ${p.title} overlaps ${other} at ${key}`);
          occupied.set(key, p.title);
        }
      }
      if (p.type === 'row') continue;
      t.ok(p.description && p.description.length > 10, `${file} / ${p.title}: has a description`);
      t.equal(p.datasource?.uid, DATASOURCE_UID, `${file} / ${p.title}: provisioned datasource`);
      t.ok(UNITS.has(p.fieldConfig?.defaults.unit ?? ''), `${file} / ${p.title}: a known unit`);
      const targets = p.targets ?? [];
      t.ok(targets.length > 0, `${file} / ${p.title}: has queries`);
      const refIds = targets.map((q) => q.refId);
      t.equal(new Set(refIds).size, refIds.length, `${file} / ${p.title}: refIds are unique`);
      for (const q of targets) {
        t.equal(q.datasource.uid, DATASOURCE_UID, `${file} / ${p.title} / ${q.refId}: datasource`);
        // Only defined variables and Grafana's interval macro may appear.
        t.doesNotThrow(
          () => expandForPrometheus(q.expr, vars, '1m'),
          `${file} / ${p.title} / ${q.refId}: uses only defined variables`,
        );
        const names = metricNames(q.expr);
        t.ok(
          names.length > 0 && names.every((n) => n === 'up' || n.startsWith('ballast_')),
          `${file} / ${p.title} / ${q.refId}: selects Ballast metrics (${names.join(', ')})`,
        );
      }
    }
    for (const v of vars) {
      const used = panels.some((p) => (p.targets ?? []).some((q) => q.expr.includes(`$${v}`)));
      t.ok(used, `${file}: variable $${v} is used by a panel`);
    }
  }
});

t.test('a panel that does not fit the grid row wraps below', async (t) => {
  const json = renderDashboard({
    uid: 'layout-test',
    file: 'layout-test',
    title: 'layout',
    description: 'layout',
    tags: [],
    variables: [],
    rows: [
      {
        title: 'r',
        panels: [16, 16].map((width, i) => ({
          title: `p${i}`,
          description: 'a panel for the layout test',
          type: 'stat' as const,
          unit: 'none' as const,
          width,
          height: 4,
          queries: [{ expr: 'up' }],
        })),
      },
    ],
  }) as unknown as { panels: Panel[] };
  t.same(
    json.panels.map((p) => p.gridPos),
    [
      { h: 1, w: 24, x: 0, y: 0 },
      { h: 4, w: 16, x: 0, y: 1 },
      { h: 4, w: 16, x: 0, y: 5 },
    ],
  );
});

t.test('provisioning points Grafana at these dashboards and this datasource', async (t) => {
  const datasources = parse(
    readFileSync(join(GRAFANA_DIR, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
  ) as { datasources: Array<{ uid: string; type: string; url: string }> };
  t.match(datasources.datasources, [
    { uid: DATASOURCE_UID, type: 'prometheus', url: 'http://prometheus:9090' },
  ]);
  const providers = parse(
    readFileSync(join(GRAFANA_DIR, 'provisioning', 'dashboards', 'ballast.yml'), 'utf8'),
  ) as { providers: Array<{ type: string; options: { path: string } }> };
  const path = providers.providers[0]?.options.path;
  t.equal(providers.providers[0]?.type, 'file');
  // docker-compose.yml mounts the dashboards directory where the provider looks.
  const compose = readFileSync(COMPOSE_FILE, 'utf8');
  t.ok(compose.includes(`./cluster/grafana/dashboards:${path}:ro`), `compose mounts ${path}`);
  t.ok(
    compose.includes(`GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: ${path}/cluster-overview.json`),
    'the home dashboard is the cluster overview',
  );
});

t.test('variable expansion and metric extraction', async (t) => {
  t.equal(
    expandForPrometheus('rate(x{volume=~"$volume"}[$__rate_interval])', ['volume'], '30s'),
    'rate(x{volume=~".*"}[30s])',
  );
  t.throws(() => expandForPrometheus('x{node=~"$node"}', ['volume'], '30s'), /unknown variable/);
  t.same(
    metricNames(
      'histogram_quantile(0.99, sum by (volume, le) (rate(a_bucket{op="write"}[1m]))) / on (x) b',
    ),
    ['a_bucket', 'b'],
  );
  t.same(metricNames('absent(ballast_meta_is_leader == 1)'), ['ballast_meta_is_leader']);
});
