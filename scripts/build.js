// Builds every workspace: code generation steps first (packages with a "build" script, such as
// proto's protobuf codegen and native addons), then one `tsc -b` over every package's tsconfig,
// which follows project references and rebuilds only what changed.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

// The native addon is built for the Node.js that runs this script, and the tests run on the
// same one: refuse a Node.js line the project does not support (engines in package.json) rather
// than build an addon for it. `npm run build` runs on the Node.js 24 that `npm ci` installs.
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const majors = [...rootPkg.engines.node.matchAll(/\^(\d+)/g)].map((m) => Number(m[1]));
if (!majors.includes(Number(process.versions.node.split('.')[0]))) {
  process.stderr.write(
    `build: Node.js ${process.version} (${process.execPath}) is not supported ` +
      `(engines: ${rootPkg.engines.node}). Run \`npm ci\` once, then \`npm run build\`: ` +
      `npm scripts run on the Node.js 24 it installs (node_modules/.bin/node).\n`,
  );
  process.exit(1);
}
const only = process.argv.slice(2);
const dirs = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'tsconfig.json')))
  .filter((d) => only.length === 0 || only.includes(d))
  .sort();

// A build from scratch takes a minute or more: say what is going on (on stderr, so that output
// parsers of `npm run build` see nothing new), one line per step.
const started = Date.now();
const say = (line) => process.stderr.write(`build: ${line}\n`);

for (const d of dirs) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8'));
  if (pkg.scripts?.build) {
    say(`${d}: code generation / native addon`);
    execFileSync('npm', ['run', '--silent', 'build'], {
      cwd: join(root, 'packages', d),
      stdio: 'inherit',
    });
  }
}
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const projects = dirs.map((d) => join('packages', d));
// The bench harness is a TypeScript project of its own on top of the packages.
if (only.length === 0 || only.includes('bench')) projects.push('bench');
// One `tsc -b` per project (each builds its references first and skips what is up to date).
// A single `tsc -b` over every project shares its module-resolution caches across projects and
// was seen to report a referenced package as missing when an unrelated project built first.
for (const [i, project] of projects.entries()) {
  say(`type-check and compile ${project} (${i + 1}/${projects.length}; up-to-date ones are quick)`);
  try {
    execFileSync(process.execPath, [tsc, '-b', project], { cwd: root, stdio: 'inherit' });
  } catch {
    // tsc has printed the errors.
    process.exit(1);
  }
}
say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
