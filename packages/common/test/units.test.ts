import t from 'tap';
import { formatSize, parseDuration, parseSize, isBallastError } from '../src/index.js';

t.test('parseSize understands the units users type', async (t) => {
  t.equal(parseSize('4096'), 4096);
  t.equal(parseSize('1KiB'), 1024);
  t.equal(parseSize('10GiB'), 10 * 1024 ** 3);
  t.equal(parseSize('10G'), 10 * 1024 ** 3);
  t.equal(parseSize('1GB'), 1e9);
  t.equal(parseSize('1.5MiB'), 1.5 * 1024 ** 2);
  t.equal(parseSize(' 2 tib '), 2 * 1024 ** 4);
  t.equal(parseSize(512), 512);
});

t.test('parseSize refuses garbage with a code and the setting name', async (t) => {
  for (const bad of ['', 'ten', '10XB', '-1', '1e3', 'GiB']) {
    const err = t.throws(() => parseSize(bad, 'size'));
    t.ok(isBallastError(err, 'INVALID_ARGUMENT'), `code for ${JSON.stringify(bad)}`);
    t.match((err as Error).message, /^size: /);
  }
  t.throws(() => parseSize(-5));
  t.throws(() => parseSize(1.5));
  t.throws(() => parseSize('99999999PiB'));
});

t.test('formatSize', async (t) => {
  t.equal(formatSize(0), '0 B');
  t.equal(formatSize(1536), '1.5 KiB');
  t.equal(formatSize(10 * 1024 ** 3), '10 GiB');
});

t.test('parseDuration', async (t) => {
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('10s'), 10_000);
  t.equal(parseDuration('2m'), 120_000);
  t.equal(parseDuration('250'), 250);
  t.throws(() => parseDuration('soon'));
});
