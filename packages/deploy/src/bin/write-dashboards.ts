// Writes cluster/grafana/dashboards/*.json from src/dashboards.ts. Run after changing a dashboard:
//   npm run build && npm run dashboards -w @ballast/deploy
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS } from '../dashboards.js';
import { dashboardFileText } from '../grafana.js';
import { DASHBOARD_DIR } from '../paths.js';

mkdirSync(DASHBOARD_DIR, { recursive: true });
for (const spec of DASHBOARDS) {
  const path = join(DASHBOARD_DIR, `${spec.file}.json`);
  writeFileSync(path, dashboardFileText(spec));
  process.stdout.write(`wrote ${path}\n`);
}
