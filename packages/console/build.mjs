// Builds the console into dist/ui (index.html, app.js, app.css): a type check of the page's
// TypeScript (tsconfig.web.json, DOM types), then one esbuild bundle with Preact inside, so the
// page loads nothing but its own files. Run by the root `npm run build` (scripts/build.js).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url).pathname;
const out = `${here}dist/ui`;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', `${here}tsconfig.web.json`], { stdio: 'inherit' });
} catch {
  // tsc has printed the errors.
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [`${here}src/main.tsx`],
  bundle: true,
  outfile: `${out}/app.js`,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync(`${here}src/index.html`, `${out}/index.html`);
copyFileSync(`${here}src/app.css`, `${out}/app.css`);
