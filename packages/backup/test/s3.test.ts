import { inspect } from 'node:util';
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import t from 'tap';
import { isBallastError } from '@ballast/common';
import { startRadosgw, type Radosgw } from '@ballast/testkit';
import {
  backupVolume,
  collect,
  listAll,
  openTarget,
  Repository,
  restoreBackup,
  S3Target,
  verify,
  type S3TargetOptions,
} from '../src/index.js';
import {
  BufferSink,
  BufferSource,
  changeBlocks,
  CountingTarget,
  fillRandom,
  makeVolume,
  MiB,
  seeded,
} from './helpers.js';
import { targetContract } from './target-contract.js';

// One radosgw for the whole file (it takes ~7 s to boot).
let rgw: Radosgw;
t.before(async () => {
  rgw = await startRadosgw();
});
t.teardown(async () => {
  await rgw?.stop();
});

const targets: S3Target[] = [];
t.afterEach(() => {
  for (const x of targets.splice(0)) x.destroy();
});

function s3(prefix: string, over: Partial<S3TargetOptions> = {}): S3Target {
  const target = new S3Target({
    bucket: rgw.bucket,
    prefix,
    endpoint: rgw.endpoint,
    region: rgw.region,
    accessKeyId: rgw.accessKey,
    secretAccessKey: rgw.secretKey,
    partSizeBytes: 5 * MiB,
    ...over,
  });
  targets.push(target);
  return target;
}

const mbps = (bytes: number, ms: number): string => ((bytes / 1e6 / ms) * 1000).toFixed(1);

t.test(
  'the S3 target keeps the target contract against radosgw (multipart included)',
  async (t) => {
    await targetContract(t, s3('contract-run'));
  },
);

t.test(
  'validate names the problem: no bucket, wrong credentials, unreachable endpoint',
  async (t) => {
    await s3('v').validate();
    const noBucket = await s3('v', { bucket: 'no-such-bucket' })
      .validate()
      .catch((e: unknown) => e);
    t.ok(isBallastError(noBucket, 'NOT_FOUND'), (noBucket as Error).message);
    t.match((noBucket as Error).message, /bucket no-such-bucket does not exist/);
    const badKey = await s3('v', { secretAccessKey: 'not-the-secret' })
      .validate()
      .catch((e: unknown) => e);
    t.ok(isBallastError(badKey, 'UNAUTHORIZED'), (badKey as Error).message);
    const badUser = await s3('v', { accessKeyId: 'NOSUCHKEY' })
      .validate()
      .catch((e: unknown) => e);
    t.ok(isBallastError(badUser, 'UNAUTHORIZED'), (badUser as Error).message);
    const down = await s3('v', { endpoint: 'http://127.0.0.1:9', maxAttempts: 2 })
      .validate()
      .catch((e: unknown) => e);
    t.ok(isBallastError(down, 'UNAVAILABLE'), (down as Error).message);
    for (const e of [noBucket, badKey, badUser, down]) {
      t.notOk(inspect(e, { depth: 8 }).includes(rgw.secretKey), 'no error shows the secret');
    }
    const target = s3('v');
    t.notOk(JSON.stringify(target).includes(rgw.secretKey), 'JSON hides the secret');
    t.notOk(
      inspect(target, { depth: 10, showHidden: true }).includes(rgw.secretKey),
      'inspect hides the secret',
    );
    const viaUrl = openTarget(`s3://${rgw.bucket}/url-prefix`, {
      endpoint: rgw.endpoint,
      accessKeyId: rgw.accessKey,
      secretAccessKey: rgw.secretKey,
    });
    await viaUrl.validate();
    (viaUrl as S3Target).destroy();
  },
);

t.test(
  'backups on radosgw: round trip, incremental bytes, a fresh process lists and restores; rates',
  async (t) => {
    const counting = new CountingTarget(s3('repo1'));
    const repo = await Repository.init(counting, {
      clusterId: 'c1',
      password: 'pw',
      scrypt: { N: 1 << 12, r: 8, p: 1 },
      packSizeBytes: 8 * MiB,
    });
    const size = 48 * MiB + 4096 * 3 + 17;
    const vol = makeVolume(size, 21);
    let started = Date.now();
    const first = await backupVolume({ repo, source: new BufferSource(vol, MiB) });
    const backupMs = Date.now() - started;
    t.comment(
      `radosgw: full backup of ${(size / MiB).toFixed(1)} MiB at ${mbps(size, backupMs)} MB/s (uploaded ${(counting.total() / MiB).toFixed(1)} MiB)`,
    );

    const changed = changeBlocks(vol, 0.01, 22);
    const chunks = new Set([...changed].map((b) => Math.floor((b * 4096) / MiB)));
    counting.reset();
    const second = await backupVolume({
      repo,
      source: new BufferSource(vol, MiB, chunks),
      parent: first.backupId,
    });
    t.comment(
      `radosgw: incremental after 1% of blocks changed uploaded ${((counting.total() / size) * 100).toFixed(3)}% of the volume`,
    );
    t.ok(counting.total() <= 0.015 * size);

    const fresh = await Repository.open(s3('repo1'), { password: 'pw' });
    t.same(
      (await fresh.listBackups()).map((b) => b.backupId),
      [first.backupId, second.backupId],
    );
    const sink = new BufferSink(size, MiB);
    started = Date.now();
    await restoreBackup({ repo: fresh, backupId: second.backupId, sink, chunkSizeBytes: MiB });
    t.comment(`radosgw: restore at ${mbps(size, Date.now() - started)} MB/s`);
    t.ok(sink.data.equals(vol), 'byte for byte');
    t.ok((await verify(fresh, second.backupId, { full: true })).ok);
    const owner = await Repository.open(s3('repo1'), { password: 'pw', clusterId: 'c1' });
    await owner.deleteBackup(first.backupId);
    const c = await collect(owner);
    t.comment(
      `radosgw: collect after deleting the first backup freed ${c.bytesFreed} bytes in ${c.deletedPacks.length} packs`,
    );
    const sink2 = new BufferSink(size, MiB);
    await restoreBackup({
      repo: fresh,
      backupId: second.backupId,
      sink: sink2,
      chunkSizeBytes: MiB,
    });
    t.ok(sink2.data.equals(vol), 'the remaining backup restores after collect');
  },
);

t.test(
  'radosgw goes down mid-upload: a clear error, no listed backup; it works after a restart',
  async (t) => {
    const target = s3('repo-down', { maxAttempts: 2, connectTimeoutMs: 1000 });
    const repo = await Repository.init(target, { clusterId: 'c1', packSizeBytes: 2 * MiB });
    const vol = Buffer.alloc(24 * MiB);
    fillRandom(vol, seeded(31));
    let stopping: Promise<void> | undefined;
    const err = await backupVolume({
      repo,
      source: new BufferSource(vol, MiB),
      onProgress: (p) => {
        if (p.packsUploaded >= 1 && !stopping) stopping = rgw.stopGateway();
      },
    }).catch((e: unknown) => e);
    await stopping;
    t.ok(isBallastError(err, 'UNAVAILABLE'), `failed with UNAVAILABLE: ${(err as Error).message}`);
    t.match((err as Error).message, /unreachable/);
    await rgw.startGateway();
    t.same(await repo.listBackups(), [], 'no backup listed');
    const m = await backupVolume({ repo, source: new BufferSource(vol, MiB) });
    const sink = new BufferSink(vol.length, MiB);
    await restoreBackup({ repo, backupId: m.backupId, sink, chunkSizeBytes: MiB });
    t.ok(sink.data.equals(vol), 'the backup after the restart restores byte for byte');
    await collect(repo, { staleLockMs: 0 });
    t.ok((await verify(repo, m.backupId, { full: true })).ok, 'and verifies after collect');
    const locks: string[] = [];
    for await (const o of listAll(target, 'locks/')) locks.push(o.key);
    t.same(locks, [], 'no lock left behind');
  },
);

t.test('collect aborts multipart uploads a dead writer left', async (t) => {
  const target = s3('repo-mpu');
  const repo = await Repository.init(target, { clusterId: 'c1' });
  const client = new S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKey, secretAccessKey: rgw.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  t.teardown(() => client.destroy());
  // What a writer killed in the middle of a multipart pack upload leaves behind.
  const Key = 'repo-mpu/packs/ab/abandoned';
  const mpu = await client.send(new CreateMultipartUploadCommand({ Bucket: rgw.bucket, Key }));
  await client.send(
    new UploadPartCommand({
      Bucket: rgw.bucket,
      Key,
      UploadId: mpu.UploadId,
      PartNumber: 1,
      Body: Buffer.alloc(5 * MiB, 1),
    }),
  );
  const other = await client.send(
    new CreateMultipartUploadCommand({ Bucket: rgw.bucket, Key: 'elsewhere/x' }),
  );
  const young = await collect(repo);
  t.equal(young.abortedUploads, 0, 'an upload younger than the stale limit is left alone');
  const c = await collect(repo, { staleLockMs: 0 });
  t.equal(c.abortedUploads, 1, 'the abandoned upload under the prefix is aborted');
  const left = await client.send(new ListMultipartUploadsCommand({ Bucket: rgw.bucket }));
  t.same(
    (left.Uploads ?? []).map((u) => u.Key),
    ['elsewhere/x'],
    'uploads outside the repository are not touched',
  );
  await target.abortIncompleteUploads(0);
  await s3('').abortIncompleteUploads(0);
  t.ok(other.UploadId);
});
