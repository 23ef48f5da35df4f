/**
 * A small typed model of the Grafana dashboards Ballast ships, and its rendering to Grafana's
 * dashboard JSON (schema version 39). Dashboards are written as data (see dashboards.ts); layout
 * (rows, positions, panel ids) is computed here, so no hand-edited JSON can drift out of shape.
 */

/** The datasource every panel queries; cluster/grafana/provisioning/datasources provisions it. */
export const DATASOURCE_UID = 'ballast-prometheus';
const DATASOURCE = { type: 'prometheus', uid: DATASOURCE_UID } as const;
export const SCHEMA_VERSION = 39;
/** Grafana's grid is 24 columns wide. */
export const GRID_WIDTH = 24;

export type PanelType = 'timeseries' | 'stat' | 'gauge' | 'bargauge';
/** Grafana unit ids used by the dashboards (a closed set, checked by the tests). */
export type Unit =
  'none' | 'short' | 'bytes' | 'Bps' | 'iops' | 'ops' | 's' | 'percentunit' | 'reqps';

export interface QuerySpec {
  /** PromQL; may use dashboard variables ($volume) and Grafana's $__rate_interval. */
  expr: string;
  legend?: string;
}

export interface PanelSpec {
  title: string;
  /** Shown as the panel's info tooltip: what the numbers mean. */
  description: string;
  type: PanelType;
  unit: Unit;
  queries: QuerySpec[];
  /** Width in grid columns (default 8) and height in rows (default 8). */
  width?: number;
  height?: number;
  /** Threshold steps as [from value, color]; the first step starts at -Infinity. */
  thresholds?: Array<[number | null, string]>;
  min?: number;
  max?: number;
  /** Stat panels: show the series name (e.g. the leader's member id) instead of its value. */
  showName?: boolean;
}

export interface VariableSpec {
  name: string;
  label: string;
  /** Values come from `label_values(metric, label)`. */
  metric: string;
  labelName: string;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface DashboardSpec {
  uid: string;
  /** File name under cluster/grafana/dashboards, without .json. */
  file: string;
  title: string;
  description: string;
  tags: string[];
  variables: VariableSpec[];
  rows: RowSpec[];
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const DEFAULT_WIDTH = 8;
const DEFAULT_HEIGHT = 8;
const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function fieldConfig(panel: PanelSpec): Json {
  const defaults: { [key: string]: Json } = { unit: panel.unit };
  if (panel.min !== undefined) defaults.min = panel.min;
  if (panel.max !== undefined) defaults.max = panel.max;
  const steps = panel.thresholds ?? [[null, 'green']];
  defaults.thresholds = {
    mode: 'absolute',
    steps: steps.map(([value, color]) => ({ color, value })),
  };
  defaults.color = { mode: panel.thresholds ? 'thresholds' : 'palette-classic' };
  if (panel.type === 'timeseries') {
    defaults.custom = {
      drawStyle: 'line',
      lineWidth: 1,
      fillOpacity: 10,
      showPoints: 'never',
      spanNulls: false,
    };
  }
  return { defaults, overrides: [] };
}

function options(panel: PanelSpec): Json {
  const reduce = { calcs: ['lastNotNull'], fields: '', values: false };
  switch (panel.type) {
    case 'timeseries':
      return {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      };
    case 'stat':
      return {
        reduceOptions: reduce,
        colorMode: 'value',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: panel.showName ? 'name' : 'auto',
      };
    case 'gauge':
      return { reduceOptions: reduce, showThresholdLabels: false, showThresholdMarkers: true };
    case 'bargauge':
      return {
        reduceOptions: reduce,
        displayMode: 'basic',
        orientation: 'horizontal',
        showUnfilled: true,
      };
  }
}

function variable(v: VariableSpec): Json {
  const query = `label_values(${v.metric}, ${v.labelName})`;
  return {
    name: v.name,
    label: v.label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: `${v.name}-values` },
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
    hide: 0,
  };
}

/** Renders a dashboard: rows stacked top to bottom, panels left to right, wrapping at 24 columns. */
export function renderDashboard(spec: DashboardSpec): Json {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({
      type: 'row',
      id: id++,
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: GRID_WIDTH, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.panels) {
      const w = panel.width ?? DEFAULT_WIDTH;
      const h = panel.height ?? DEFAULT_HEIGHT;
      if (x + w > GRID_WIDTH) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      if (panel.queries.length > REF_IDS.length) {
        throw new Error(`${spec.uid}/${panel.title}: more than ${REF_IDS.length} queries`);
      }
      panels.push({
        type: panel.type,
        id: id++,
        title: panel.title,
        description: panel.description,
        datasource: DATASOURCE,
        gridPos: { h, w, x, y },
        fieldConfig: fieldConfig(panel),
        options: options(panel),
        targets: panel.queries.map((q, i) => ({
          datasource: DATASOURCE,
          refId: REF_IDS[i]!,
          expr: q.expr,
          legendFormat: q.legend ?? '__auto',
          range: true,
          instant: false,
          editorMode: 'code',
        })),
      });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    editable: true,
    graphTooltip: 1,
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [
      {
        title: 'Ballast dashboards',
        type: 'dashboards',
        tags: ['ballast'],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
      },
    ],
    templating: { list: spec.variables.map(variable) },
    panels,
  };
}

/** The JSON text of a dashboard file as committed (two-space indent, trailing newline). */
export function dashboardFileText(spec: DashboardSpec): string {
  return `${JSON.stringify(renderDashboard(spec), null, 2)}\n`;
}
