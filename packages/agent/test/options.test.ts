import t from 'tap';
import { isBallastError } from '@ballast/common';
import { DEFAULT_VOLUME, VALID_OPTIONS, parseVolumeOptions } from '../src/index.js';
import { volumeSocketPath } from '../src/socket-path.js';

t.test('absent, null and empty Opts give the defaults', async (t) => {
  for (const opts of [undefined, null, {}]) {
    t.same(parseVolumeOptions(opts), {
      sizeBytes: DEFAULT_VOLUME.sizeBytes,
      replicas: 3,
      fs: 'ext4',
      chunkSizeBytes: undefined,
      zone: undefined,
      labels: {},
    });
  }
});

t.test("from-snapshot: a clone, whose size and fs default to the snapshot's", async (t) => {
  t.match(parseVolumeOptions({ 'from-snapshot': 'db@nightly' }), {
    fromSnapshot: 'db@nightly',
    sizeGiven: false,
    fsGiven: false,
  });
  t.match(parseVolumeOptions({ 'from-snapshot': 'db@nightly', size: '20GiB', fs: 'xfs' }), {
    fromSnapshot: 'db@nightly',
    sizeGiven: true,
    fsGiven: true,
    sizeBytes: 20 * 1024 ** 3,
  });
  t.notOk('fromSnapshot' in parseVolumeOptions({}), 'no clone without the option');
  for (const bad of ['db', '@s', 'db@', 'db@s@t', 'd b@s']) {
    t.throws(
      () => parseVolumeOptions({ 'from-snapshot': bad }),
      /from-snapshot: .* is not VOLUME@SNAPSHOT/,
      bad,
    );
  }
});

t.test('every valid option is understood and normalised', async (t) => {
  const spec = parseVolumeOptions({
    size: '1.5GiB',
    replicas: '2',
    fs: 'XFS',
    zone: 'eu-1a',
    chunkSize: '4MiB',
    replicaTimeout: '5s',
    'label.ssd': 'true',
    labels: 'rack=r1, tier=gold',
  });
  t.same(spec, {
    sizeBytes: 1.5 * 1024 ** 3,
    replicas: 2,
    fs: 'xfs',
    chunkSizeBytes: 4 * 1024 ** 2,
    zone: 'eu-1a',
    labels: { ssd: 'true', rack: 'r1', tier: 'gold' },
    replicaTimeoutMs: 5000,
  });
  t.equal(parseVolumeOptions({ size: '100000000' }).sizeBytes, 100003840, 'rounded up to 4 KiB');
  t.equal(parseVolumeOptions({ size: '256M' }).sizeBytes, 256 * 1024 ** 2, 'bare M is binary');
});

t.test('bad options are refused with the list of valid ones', async (t) => {
  const cases: Array<[Record<string, unknown> | unknown, RegExp]> = [
    [{ colour: 'red' }, /unknown option "colour"/],
    [{ size: 'big' }, /cannot parse "big"/],
    [{ size: '' }, /needs a value/],
    [{ size: '1KiB' }, /outside/],
    [{ size: '100TiB' }, /outside/],
    [{ size: '1' + '0'.repeat(400) }, /too large|cannot parse/],
    [{ replicas: '0' }, /replicas/],
    [{ replicas: '6' }, /replicas/],
    [{ replicas: '2.5' }, /replicas/],
    [{ fs: 'btrfs' }, /not supported/],
    [{ fs: 'xfs', size: '100MiB' }, /xfs needs at least/],
    [{ chunkSize: '3MiB' }, /power of two/],
    [{ replicaTimeout: '10ms' }, /replicaTimeout.*from 500ms to 300s/],
    [{ replicaTimeout: 'soon' }, /cannot parse "soon" as a duration/],
    [{ chunkSize: '1GiB' }, /power of two/],
    [{ zone: 'a b' }, /zone/],
    [{ 'label.': 'x' }, /label key/],
    [{ 'label.k': 'a,b' }, /label value/],
    [{ labels: 'novalue' }, /not key=value/],
    [{ 'label.k': 'x', labels: 'k=y' }, /twice/],
    [{ size: 5 }, /must be a string/],
    [['size=1G'], /Opts must be an object/],
    ['size=1G', /Opts must be an object/],
  ];
  for (const [opts, pattern] of cases) {
    try {
      parseVolumeOptions(opts);
      t.fail(`accepted ${JSON.stringify(opts)}`);
    } catch (err) {
      t.ok(isBallastError(err, 'INVALID_ARGUMENT'), `${JSON.stringify(opts)} is INVALID_ARGUMENT`);
      t.match((err as Error).message, pattern);
      for (const name of VALID_OPTIONS) t.match((err as Error).message, name);
    }
  }
  const many: Record<string, string> = {};
  for (let i = 0; i < 100; i++) many[`label.k${i}`] = 'v';
  t.throws(() => parseVolumeOptions(many), /too many options/);
});

t.test('socket paths stay inside sun_path for long volume names', async (t) => {
  t.equal(volumeSocketPath('/run/b/nbd', 'vol1'), '/run/b/nbd/vol1.sock');
  const long = 'a'.repeat(64);
  const dir = '/tmp/ballast-agent-XXXXXX/run/relay';
  const p = volumeSocketPath(dir, long);
  t.ok(Buffer.byteLength(p) <= 100, p);
  t.equal(volumeSocketPath(dir, long), p, 'deterministic');
  t.not(volumeSocketPath(dir, 'b'.repeat(64)), p, 'distinct per volume');
});
