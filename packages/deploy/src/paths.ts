import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this file that holds docker-compose.yml. */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth++) {
    if (existsSync(join(dir, 'docker-compose.yml')) && existsSync(join(dir, 'cluster'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('repository root (with docker-compose.yml and cluster/) not found');
}

export const REPO_ROOT = findRepoRoot();
export const CLUSTER_DIR = join(REPO_ROOT, 'cluster');
export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
export const PROMETHEUS_DIR = join(CLUSTER_DIR, 'prometheus');
export const GRAFANA_DIR = join(CLUSTER_DIR, 'grafana');
export const DASHBOARD_DIR = join(GRAFANA_DIR, 'dashboards');
