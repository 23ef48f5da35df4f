import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, freePort } from '@ballast/testkit';
import { parse, stringify } from 'yaml';
import { PROMETHEUS_DIR } from '../../src/paths.js';

interface ScrapeConfig {
  job_name: string;
  static_configs?: Array<{ targets: string[]; labels?: Record<string, string> }>;
  [key: string]: unknown;
}

interface PrometheusConfig {
  global?: Record<string, string>;
  rule_files?: string[];
  scrape_configs: ScrapeConfig[];
}

/** The repository's cluster/prometheus/prometheus.yml, parsed. */
export function repoPrometheusConfig(): PrometheusConfig {
  return parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as PrometheusConfig;
}

/**
 * The repository's config with only what must differ for a local cluster changed: each job's
 * targets (the compose service names become the dev cluster's loopback ports), the rule files by
 * absolute path, and a short scrape/evaluation interval so a test sees several scrapes quickly.
 * Jobs, relabelling and rules stay the repository's. Throws when a job of the repository's config
 * gets no targets, or targets name a job the repository does not have.
 */
export function deriveConfig(
  targetsByJob: Record<string, string[]>,
  intervalSeconds: number,
): string {
  const config = repoPrometheusConfig();
  const jobs = config.scrape_configs.map((s) => s.job_name);
  for (const job of Object.keys(targetsByJob)) {
    if (!jobs.includes(job)) throw new Error(`no job ${job} in the repository's prometheus.yml`);
  }
  for (const scrape of config.scrape_configs) {
    const targets = targetsByJob[scrape.job_name];
    if (targets === undefined || targets.length === 0) {
      throw new Error(`job ${scrape.job_name} of prometheus.yml got no targets`);
    }
    scrape.static_configs = [{ targets }];
  }
  config.global = {
    ...config.global,
    scrape_interval: `${intervalSeconds}s`,
    scrape_timeout: `${intervalSeconds}s`,
    evaluation_interval: `${intervalSeconds}s`,
  };
  config.rule_files = (config.rule_files ?? []).map((f) => join(PROMETHEUS_DIR, f));
  return stringify(config);
}

export interface RunningPrometheus {
  url: string;
  process: ManagedProcess;
}

/** A free loopback port for Prometheus (its own scrape target must be known before it starts). */
export const prometheusPort = (): Promise<number> => freePort();

/** The Debian `prometheus` binary on 127.0.0.1:`port`, with its data and log under `dir`. */
export async function startPrometheus(
  dir: string,
  configText: string,
  port: number,
): Promise<RunningPrometheus> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(configPath, configText);
  const proc = new ManagedProcess({
    id: 'prometheus',
    command: 'prometheus',
    args: [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    logFile: join(dir, 'prometheus.log'),
    readyWhen: (line) => line.includes('Server is ready to receive web requests'),
    readyTimeoutMs: 60_000,
  });
  await proc.start();
  return { url: `http://127.0.0.1:${port}`, process: proc };
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export type ApiResult<T> = { ok: true; data: T } | { ok: false; error: string };

async function api<T>(url: string): Promise<ApiResult<T>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = (await response.json()) as { status: string; data?: T; error?: string };
  if (body.status !== 'success')
    return { ok: false, error: body.error ?? `HTTP ${response.status}` };
  return { ok: true, data: body.data as T };
}

/** An instant query through the HTTP API (as Grafana's instant queries are). */
export function instantQuery(
  base: string,
  expr: string,
): Promise<ApiResult<{ resultType: string; result: Sample[] }>> {
  return api(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
}

export function labelValues(
  base: string,
  label: string,
  match: string,
): Promise<ApiResult<string[]>> {
  return api(
    `${base}/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`,
  );
}

export interface RuleState {
  name: string;
  query: string;
  health: string;
  lastError?: string;
  state?: string;
  type: string;
}

export async function loadedRules(base: string): Promise<RuleState[]> {
  const result = await api<{ groups: Array<{ rules: RuleState[] }> }>(`${base}/api/v1/rules`);
  if (!result.ok) throw new Error(`rules API: ${result.error}`);
  return result.data.groups.flatMap((g) => g.rules);
}

export async function activeTargets(
  base: string,
): Promise<Array<{ scrapePool: string; scrapeUrl: string; health: string; lastError: string }>> {
  const result = await api<{
    activeTargets: Array<{
      scrapePool: string;
      scrapeUrl: string;
      health: string;
      lastError: string;
    }>;
  }>(`${base}/api/v1/targets?state=active`);
  if (!result.ok) throw new Error(`targets API: ${result.error}`);
  return result.data.activeTargets;
}

/** A sample value Grafana would draw: a finite number. */
export function hasFiniteValue(sample: Sample): boolean {
  return Number.isFinite(Number(sample.value[1]));
}
