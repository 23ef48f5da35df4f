import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A query a dashboard runs: a panel target or a template variable's label_values(). */
export interface DashboardQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

export interface VariableQuery {
  dashboard: string;
  name: string;
  metric: string;
  label: string;
}

interface DashboardJson {
  uid: string;
  title: string;
  panels: Array<{
    type: string;
    title: string;
    targets?: Array<{ refId: string; expr: string }>;
  }>;
  templating: { list: Array<{ name: string; query: { query: string } | string }> };
}

export interface LoadedDashboard {
  file: string;
  json: DashboardJson;
}

export function loadDashboards(dir: string): LoadedDashboard[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      json: JSON.parse(readFileSync(join(dir, file), 'utf8')) as DashboardJson,
    }));
}

export function panelQueries(dashboards: LoadedDashboard[]): DashboardQuery[] {
  return dashboards.flatMap(({ json }) =>
    json.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        dashboard: json.uid,
        panel: p.title,
        refId: t.refId,
        expr: t.expr,
      })),
    ),
  );
}

const LABEL_VALUES =
  /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/;

export function variableQueries(dashboards: LoadedDashboard[]): VariableQuery[] {
  return dashboards.flatMap(({ json }) =>
    json.templating.list.map((v) => {
      const text = typeof v.query === 'string' ? v.query : v.query.query;
      const m = LABEL_VALUES.exec(text.trim());
      if (m === null)
        throw new Error(`${json.uid}: variable ${v.name}: not label_values(): ${text}`);
      return { dashboard: json.uid, name: v.name, metric: m[1]!, label: m[2]! };
    }),
  );
}

/**
 * The PromQL Grafana would send for `expr`: every dashboard variable set to "All" (its allValue,
 * `.*`), and Grafana's interval macros replaced by `rateInterval`.
 */
export function expandForPrometheus(
  expr: string,
  variables: readonly string[],
  rateInterval: string,
): string {
  let out = expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$__interval', rateInterval)
    .replaceAll('$__range', rateInterval);
  for (const name of variables) {
    out = out.replaceAll(`\${${name}}`, '.*').replaceAll(`$${name}`, '.*');
  }
  const left = /\$[a-zA-Z_{]/.exec(out);
  if (left !== null) throw new Error(`unknown variable left in query: ${out}`);
  return out;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
]);

/**
 * Metric names an expression selects: identifiers that are neither function calls, keywords,
 * nor inside label matchers, strings, groupings or range brackets.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    if (KEYWORDS.has(word)) continue;
    if (
      stripped
        .slice(m.index + word.length)
        .trimStart()
        .startsWith('(')
    )
      continue;
    names.add(word);
  }
  return [...names].sort();
}
