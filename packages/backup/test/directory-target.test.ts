import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { DirectoryTarget, openTarget, S3Target } from '../src/index.js';
import { fillRandom, MiB, seeded, tempDir } from './helpers.js';
import { targetContract } from './target-contract.js';

t.test('the directory target keeps the target contract', async (t) => {
  await targetContract(t, new DirectoryTarget(tempDir(t)));
});

t.test(
  'a put is atomic: a reader sees the old object or the whole new one, never part of it',
  async (t) => {
    const target = new DirectoryTarget(tempDir(t));
    const rand = seeded(7);
    const versions = [0, 1, 2, 3].map(() => {
      const b = Buffer.alloc(8 * MiB);
      fillRandom(b, rand);
      return b;
    });
    await target.put('obj', versions[0]!);
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        const got = await target.get('obj');
        reads++;
        if (!versions.some((v) => v.equals(got)))
          throw new Error(`read ${got.length} bytes matching no version`);
      }
    })();
    for (const v of versions.slice(1)) await target.put('obj', v);
    reading = false;
    await reader;
    t.ok(reads > 0, `${reads} reads during the puts, each one a whole version`);
  },
);

t.test('a put killed half-way leaves no object and no listed debris', async (t) => {
  const dir = tempDir(t);
  // A child writes a 256 MiB stream slowly; it is killed before the end.
  const script = `
    import { DirectoryTarget } from ${JSON.stringify(new URL('../src/index.js', import.meta.url).href)};
    import { Readable } from 'node:stream';
    const t = new DirectoryTarget(${JSON.stringify(dir)});
    async function* body() { for (let i = 0; i < 4096; i++) { yield Buffer.alloc(65536, 1); if (i === 16) console.log('writing'); await new Promise((r) => setTimeout(r, 5)); } }
    await t.put('packs/aa/victim', Readable.from(body()));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (d: Buffer) => d.toString().includes('writing') && resolve()),
  );
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const target = new DirectoryTarget(dir);
  t.equal(await target.head('packs/aa/victim'), undefined, 'no object');
  t.same((await target.listPage('')).objects, [], 'nothing listed');
  t.ok(
    readdirSync(join(dir, 'packs/aa')).some((n) => n.startsWith('.tmp-')),
    'the temp file is there',
  );
  t.equal(await target.removeTempFiles(), 1, 'removeTempFiles removes it');
});

t.test('keys that would leave the directory are refused', async (t) => {
  const target = new DirectoryTarget(tempDir(t));
  for (const key of ['../x', '/abs', 'a//b', 'a/./b', '', 'a/.tmp-1']) {
    const err = await target.put(key, Buffer.from('x')).catch((e: unknown) => e);
    t.ok(isBallastError(err, 'INVALID_ARGUMENT'), `refused: ${JSON.stringify(key)}`);
  }
});

t.test('validate: a directory that cannot be written is a clear IO error', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), 'x');
  const err = await new DirectoryTarget(join(dir, 'file', 'sub'))
    .validate()
    .catch((e: unknown) => e);
  t.ok(isBallastError(err, 'IO'), (err as Error).message);
});

t.test('target URLs', async (t) => {
  const a = openTarget('file:///var/backups/ballast');
  t.ok(a instanceof DirectoryTarget && a.root === '/var/backups/ballast', 'file:// URL');
  const b = openTarget('/srv/b');
  t.ok(b instanceof DirectoryTarget && b.root === '/srv/b', 'plain absolute path');
  const c = openTarget('rel/dir');
  t.ok(
    c instanceof DirectoryTarget && c.root.endsWith('/rel/dir') && c.root.startsWith('/'),
    'relative path',
  );
  const s = openTarget('s3://bucket/some/prefix', {
    endpoint: 'http://127.0.0.1:1',
    accessKeyId: 'AK',
    secretAccessKey: 'SECRET-DO-NOT-SHOW',
  });
  t.ok(s instanceof S3Target);
  t.equal((s as S3Target).bucket, 'bucket');
  t.equal((s as S3Target).prefix, 'some/prefix');
  t.notOk(JSON.stringify(s).includes('SECRET'), 'JSON hides the secret');
  const { inspect } = await import('node:util');
  t.notOk(
    inspect(s, { depth: 10, showHidden: true }).includes('SECRET'),
    'inspect hides the secret',
  );
  t.notOk(String(s).includes('SECRET'));
  (s as S3Target).destroy();
  for (const bad of ['s3://', 'http://x/y', '']) {
    t.throws(
      () => openTarget(bad, { accessKeyId: 'a', secretAccessKey: 'b' }),
      { code: 'INVALID_ARGUMENT' },
      `refused: ${bad}`,
    );
  }
  t.throws(
    () => openTarget('s3://bucket'),
    { code: 'INVALID_ARGUMENT' },
    's3 without endpoint and credentials',
  );
  t.notOk(existsSync('rel'), 'opening a target creates nothing');
});
