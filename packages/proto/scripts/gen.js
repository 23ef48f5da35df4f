// Generates static protobufjs code (ES module) and its TypeScript definitions from protos/*.proto,
// into gen/ (for the type checker) and dist/gen/ (for the compiled package). See docs/decisions.md.
// Skips the work when the outputs are newer than every input, and writes through temporary files
// renamed into place, so concurrent builds never see a half-written file.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
const outJs = join(gen, 'messages.js');
const outDts = join(gen, 'messages.d.ts');
const distGen = join(root, 'dist', 'gen');

const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : 0);
const newestInput = Math.max(...protos.map(mtime), mtime(fileURLToPath(import.meta.url)));
const upToDate = Math.min(mtime(outJs), mtime(outDts)) > newestInput;

if (!upToDate) {
  mkdirSync(gen, { recursive: true });
  const tmp = join(gen, `.tmp-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
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
    const commented = join(tmp, 'messages.commented.js');
    execFileSync(process.execPath, [pbjs, ...common, '-o', commented, ...protos], {
      stdio: 'inherit',
    });
    execFileSync(process.execPath, [pbts, '-o', join(tmp, 'messages.d.ts'), commented], {
      stdio: 'inherit',
    });
    const js = join(tmp, 'messages.js');
    execFileSync(
      process.execPath,
      [pbjs, ...common, '--no-comments', '--no-beautify', '-o', js, ...protos],
      {
        stdio: 'inherit',
      },
    );
    // Node's ESM resolver needs the file extension on the runtime import.
    writeFileSync(
      js,
      readFileSync(js, 'utf8').replace(
        /from "protobufjs\/minimal"/,
        'from "protobufjs/minimal.js"',
      ),
    );
    renameSync(join(tmp, 'messages.d.ts'), outDts);
    renameSync(js, outJs);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
if (!upToDate || mtime(join(distGen, 'messages.js')) < mtime(outJs)) {
  mkdirSync(distGen, { recursive: true });
  for (const f of ['messages.js', 'messages.d.ts']) {
    const tmpCopy = join(distGen, `.${f}.${process.pid}`);
    cpSync(join(gen, f), tmpCopy);
    renameSync(tmpCopy, join(distGen, f));
  }
}
