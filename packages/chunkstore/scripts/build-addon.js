// Builds the native addon with node-gyp. Runs from the package's "build" script (npm 11 here
// blocks dependency install scripts, so nothing relies on an install hook). `configure` runs
// only when there is no Makefile yet, so repeated builds are incremental and quick.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const packageDir = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const nodeGyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');

// Build against local Node headers so nothing is downloaded: npm's `nodedir` when set (this
// machine: /usr), otherwise the headers next to the running node (official Node images ship
// them in <prefix>/include/node).
const extra = [];
const prefix = dirname(dirname(process.execPath));
const nodedir =
  process.env.npm_config_nodedir ||
  (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
if (nodedir) extra.push(`--nodedir=${nodedir}`);

function run(args) {
  execFileSync(process.execPath, [nodeGyp, ...args, ...extra], {
    cwd: packageDir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

if (!existsSync(join(packageDir, 'build', 'Makefile'))) run(['configure', '--loglevel=error']);
run(['build', '--loglevel=error']);
