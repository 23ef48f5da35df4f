#!/usr/bin/env node
// Prints the installed Debian packages needed to run the given root packages: the roots and,
// recursively, what they Depend or Pre-Depend on (the first installed alternative of "a | b",
// the installed provider of a virtual package), minus the excluded names and what only they
// pulled in. Reads dpkg's database only; downloads nothing.
//
//   node debian-closure.mjs [--exclude nodejs,debconf] [--files] libc6 dash coreutils
//
// --files prints the packages' files instead (dpkg -L; documentation, man pages and locales left
// out), one per line, each with its parent directories resolved so that paths through the
// merged-/usr symlinks (/bin -> usr/bin) name the real place, parents before children.
// Exits 1 naming every root that is not installed (the base image would silently lack a tool).
import { execFileSync } from 'node:child_process';
import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const MAX_PACKAGES = 5000; // a bound on the walk; a Debian system has far fewer installed

function parseArgs(argv) {
  const roots = [];
  const exclude = new Set();
  let files = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--files') {
      files = true;
    } else if (argv[i] === '--exclude') {
      for (const name of (argv[++i] ?? '').split(',')) if (name) exclude.add(name);
    } else {
      roots.push(argv[i]);
    }
  }
  return { roots, exclude, files };
}

function installedPackages() {
  const format = '${Package}\\t${db:Status-Abbrev}\\t${Provides}\\t${Pre-Depends}, ${Depends}\\n';
  const out = execFileSync('dpkg-query', ['-W', `-f=${format}`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const depends = new Map();
  const providers = new Map();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [name, status, provides, deps] = line.split('\t');
    // "ii " = installed; half-installed or config-files-only packages do not count.
    if (!status.startsWith('ii')) continue;
    depends.set(name, deps);
    for (const p of provides.split(',')) {
      const virtual = p.trim().split(/\s/)[0];
      if (!virtual) continue;
      if (!providers.has(virtual)) providers.set(virtual, []);
      providers.get(virtual).push(name);
    }
  }
  return { depends, providers };
}

function resolve(name, db) {
  const bare = name.split(':')[0]; // "python3:any" -> "python3"
  if (db.depends.has(bare)) return bare;
  return db.providers.get(bare)?.[0];
}

const { roots, exclude, files } = parseArgs(process.argv.slice(2));
if (roots.length === 0) {
  process.stderr.write('usage: debian-closure.mjs [--exclude a,b] PACKAGE...\n');
  process.exit(2);
}
const db = installedPackages();
const missing = roots.filter((r) => resolve(r, db) === undefined);
if (missing.length > 0) {
  process.stderr.write(`not installed on this machine: ${missing.join(' ')}\n`);
  process.exit(1);
}
const seen = new Set();
const todo = roots.map((r) => resolve(r, db));
while (todo.length > 0) {
  const name = todo.pop();
  if (seen.has(name) || exclude.has(name)) continue;
  seen.add(name);
  if (seen.size > MAX_PACKAGES) throw new Error(`more than ${MAX_PACKAGES} packages: a loop?`);
  for (const clause of db.depends.get(name).split(',')) {
    const alternatives = clause
      .split('|')
      .map((a) => a.replace(/\(.*?\)/g, '').trim())
      .filter(Boolean);
    if (alternatives.length === 0) continue;
    const found = alternatives.map((a) => resolve(a, db)).find((p) => p !== undefined);
    // An unmet dependency of an installed package (dpkg --force) is left out, not fatal.
    if (found !== undefined) todo.push(found);
  }
}
if (!files) {
  process.stdout.write([...seen].sort().join('\n') + '\n');
  process.exit(0);
}

// Not needed to run anything, and most of the size of some packages.
const SKIP = /^\/usr\/share\/(doc|doc-base|man|info|locale|lintian|bug|bash-completion)(\/|$)/;
const realParent = new Map();
function canonical(path) {
  const parent = dirname(path);
  if (!realParent.has(parent)) realParent.set(parent, realpathSync(parent));
  return join(realParent.get(parent), basename(path));
}
const paths = new Set();
for (const name of [...seen].sort()) {
  const listed = execFileSync('dpkg-query', ['-L', name], { encoding: 'utf8' }).split('\n');
  for (const path of listed) {
    if (!path.startsWith('/') || path === '/.' || SKIP.test(path)) continue;
    let real;
    try {
      real = canonical(path);
      lstatSync(real); // diversions and removed conffiles are listed but absent
    } catch {
      continue;
    }
    if (!SKIP.test(real)) paths.add(real);
  }
}
// Sorted, a directory comes before what it holds, so tar creates it with its own mode.
process.stdout.write([...paths].sort().join('\n') + '\n');
