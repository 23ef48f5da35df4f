import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Type } from '@sinclair/typebox';
import { envName, flagName, isBallastError, loadConfig } from '../src/index.js';

const Schema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 7000 }),
    peers: Type.Array(Type.String(), { default: [] }),
    labels: Type.Record(Type.String(), Type.String(), { default: {} }),
    verbose: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

t.test('names of flags and environment variables', async (t) => {
  t.equal(envName('dataDir'), 'BALLAST_DATA_DIR');
  t.equal(flagName('dataDir'), '--data-dir');
});

t.test('precedence: defaults < file < env < flags', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ dataDir: '/from/file', port: 1 }));
  const cfg = loadConfig(Schema, {
    file,
    env: { BALLAST_PORT: '2', BALLAST_PEERS: 'a:1, b:2', BALLAST_LABELS: 'zone=z1,rack=r2' },
    flags: { port: '3', verbose: undefined },
  });
  t.same(cfg, {
    dataDir: '/from/file',
    port: 3,
    peers: ['a:1', 'b:2'],
    labels: { zone: 'z1', rack: 'r2' },
    verbose: false,
  });
});

t.test('a bad value names the setting, its flag and its variable', async (t) => {
  const err = t.throws(() =>
    loadConfig(Schema, { env: { BALLAST_DATA_DIR: '/x', BALLAST_PORT: 'abc' } }),
  );
  t.ok(isBallastError(err, 'CONFIG'));
  t.match((err as Error).message, /"port" \(--port or BALLAST_PORT\)/);

  const missing = t.throws(() => loadConfig(Schema, { env: {} }));
  t.match((missing as Error).message, /dataDir/);

  const range = t.throws(() =>
    loadConfig(Schema, { env: { BALLAST_DATA_DIR: '/x' }, flags: { port: 70000 } }),
  );
  t.match((range as Error).message, /port.*must be <= 65535/);
});

t.test('bad files and bad maps are clear errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, '{not json');
  t.match(
    (t.throws(() => loadConfig(Schema, { file, env: {} })) as Error).message,
    /cannot read config file/,
  );
  writeFileSync(file, JSON.stringify({ dataDir: '/x', bogus: 1 }));
  t.match(
    (t.throws(() => loadConfig(Schema, { file, env: {} })) as Error).message,
    /unknown setting "bogus"/,
  );
  t.match(
    (
      t.throws(() =>
        loadConfig(Schema, { env: { BALLAST_DATA_DIR: '/x', BALLAST_LABELS: 'zone' } }),
      ) as Error
    ).message,
    /BALLAST_LABELS: expected key=value/,
  );
});
