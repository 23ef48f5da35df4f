// Generates static protobufjs code (ES module) and its TypeScript definitions from protos/*.proto,
// into gen/ (for the type checker) and dist/gen/ (for the compiled package). See docs/decisions.md.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cliDir = dirname(require.resolve('protobufjs-cli/package.json'));
const pbjs = join(cliDir, 'bin', 'pbjs');
const pbts = join(cliDir, 'bin', 'pbts');

const protos = readdirSync(join(root, 'protos'))
  .filter((f) => f.endsWith('.proto'))
  .sort()
  .map((f) => join(root, 'protos', f));
const gen = join(root, 'gen');
mkdirSync(gen, { recursive: true });
const out = join(gen, 'messages.js');

const common = [
  '-t',
  'static-module',
  '-w',
  'es6',
  '--force-number',
  '--no-delimited',
  '--no-service',
];
// pbts reads the JSDoc comments, so the typings come from a commented build; the runtime file has none.
const commented = join(gen, 'messages.commented.js');
execFileSync(process.execPath, [pbjs, ...common, '-o', commented, ...protos], { stdio: 'inherit' });
execFileSync(process.execPath, [pbts, '-o', join(gen, 'messages.d.ts'), commented], {
  stdio: 'inherit',
});
rmSync(commented);
execFileSync(
  process.execPath,
  [pbjs, ...common, '--no-comments', '--no-beautify', '-o', out, ...protos],
  {
    stdio: 'inherit',
  },
);
// Node's ESM resolver needs the file extension on the runtime import.
const js = readFileSync(out, 'utf8').replace(
  /from "protobufjs\/minimal"/,
  'from "protobufjs/minimal.js"',
);
writeFileSync(out, js);
mkdirSync(join(root, 'dist', 'gen'), { recursive: true });
cpSync(gen, join(root, 'dist', 'gen'), { recursive: true });
