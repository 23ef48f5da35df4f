import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
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

/** A temp dir removed when the test ends. */
function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('precedence: defaults < file < env < flags', async (t) => {
  const dir = tempDir(t, 'cfg-');
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
  const dir = tempDir(t, 'cfg-');
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

const Secrets = Type.Object(
  {
    joinToken: Type.Optional(Type.String({ minLength: 16, secret: true })),
    joinTokenFile: Type.Optional(Type.String({ minLength: 1 })),
    dataPlaneSecret: Type.Optional(Type.String({ minLength: 16, secret: true })),
    dataPlaneSecretFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Not a secret: its sibling file setting stays a path. */
    tlsCert: Type.Optional(Type.String()),
    tlsCertFile: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

function secretDir(t: Test, files: Record<string, string>): string {
  const dir = tempDir(t, 'cfg-secrets-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

t.test('a secret can come from a file named by BALLAST_<KEY>_FILE (Docker secrets)', async (t) => {
  const dir = secretDir(t, {
    join_token: 'join-token-from-a-file-0123\n',
    dp: 'data-plane-secret-no-newline',
    cert: 'not read',
  });
  const cfg = loadConfig(Secrets, {
    env: {
      BALLAST_JOIN_TOKEN_FILE: join(dir, 'join_token'),
      BALLAST_DATA_PLANE_SECRET_FILE: join(dir, 'dp'),
      BALLAST_TLS_CERT_FILE: join(dir, 'cert'),
    },
  });
  t.same(cfg, {
    joinToken: 'join-token-from-a-file-0123',
    dataPlaneSecret: 'data-plane-secret-no-newline',
    tlsCertFile: join(dir, 'cert'),
  });
  // The same through a flag and through the config file.
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ dataPlaneSecretFile: join(dir, 'dp') }));
  t.same(loadConfig(Secrets, { file, flags: { joinTokenFile: join(dir, 'join_token') } }), {
    joinToken: 'join-token-from-a-file-0123',
    dataPlaneSecret: 'data-plane-secret-no-newline',
  });
});

t.test('a missing, empty or short secret file is a clear error', async (t) => {
  const dir = secretDir(t, { empty: '', blank: '\n', short: 'short\n' });
  const cases: Array<[string, RegExp]> = [
    [
      join(dir, 'absent'),
      /setting "joinTokenFile" \(--join-token-file or BALLAST_JOIN_TOKEN_FILE\): cannot read the joinToken from .*absent: no such file/,
    ],
    [join(dir, 'empty'), /BALLAST_JOIN_TOKEN_FILE\): .*empty is empty; it must hold the joinToken/],
    [join(dir, 'blank'), /blank is empty/],
    [join(dir, 'short'), /the joinToken in .*short has 5 characters; it must have at least 16/],
    [dir, /cannot read the joinToken from .*: it is a directory/],
  ];
  for (const [path, message] of cases) {
    const err = t.throws(() => loadConfig(Secrets, { env: { BALLAST_JOIN_TOKEN_FILE: path } }));
    t.ok(isBallastError(err, 'CONFIG'), `CONFIG for ${path}`);
    t.match((err as Error).message, message);
  }
});

t.test('a secret and its file: the higher source wins, the same source is an error', async (t) => {
  const dir = secretDir(t, { jt: 'join-token-from-a-file-0123\n' });
  const both = t.throws(() =>
    loadConfig(Secrets, {
      env: {
        BALLAST_JOIN_TOKEN: 'join-token-in-the-env-0123',
        BALLAST_JOIN_TOKEN_FILE: join(dir, 'jt'),
      },
    }),
  );
  t.ok(isBallastError(both, 'CONFIG'));
  t.match(
    (both as Error).message,
    /the secret "joinToken" is given twice: set --join-token or BALLAST_JOIN_TOKEN, or the file that holds it \(--join-token-file or BALLAST_JOIN_TOKEN_FILE\), not both/,
  );
  t.same(
    loadConfig(Secrets, {
      env: { BALLAST_JOIN_TOKEN: 'join-token-in-the-env-0123' },
      flags: { joinTokenFile: join(dir, 'jt') },
    }),
    { joinToken: 'join-token-from-a-file-0123' },
    'a flag naming the file wins over the environment',
  );
  t.same(
    loadConfig(Secrets, {
      env: { BALLAST_JOIN_TOKEN_FILE: join(dir, 'does-not-exist') },
      flags: { joinToken: 'join-token-on-a-flag-0123' },
    }),
    { joinToken: 'join-token-on-a-flag-0123' },
    'a flag with the secret wins over the environment (whose file is not read)',
  );
});
