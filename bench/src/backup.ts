// The backup benchmark (issue 17): backup and restore rates of @ballast/backup against the same
// bytes moved with the plain AWS SDK (lib-storage multipart upload, one GET) to the same radosgw
// in the same run, and on a directory target against a plain file write/read.
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  backupVolume,
  DirectoryTarget,
  Repository,
  restoreBackup,
  S3Target,
  type BackupSource,
  type BackupTarget,
  type RestoreSink,
} from '@ballast/backup';
import { startRadosgw } from '@ballast/testkit';

export interface BackupBenchOptions {
  sizeBytes: number;
  scratch: string;
  resultsDir: string;
  rounds: number;
}

interface Row {
  target: string;
  what: string;
  round: number;
  mbPerSec: number;
  seconds: number;
}

const CHUNK = 4 * 1024 * 1024;

/** Random data with a compressible half: what a used volume looks like, give or take. */
function makeVolume(sizeBytes: number): Buffer {
  const vol = Buffer.alloc(sizeBytes);
  randomFillSync(vol);
  for (let off = 0; off < sizeBytes / 2; off += 4096) vol.fill(off % 251, off, off + 2048);
  return vol;
}

function source(vol: Buffer): BackupSource {
  return {
    sizeBytes: vol.length,
    chunkSizeBytes: CHUNK,
    readChunk: async (i) => Buffer.from(vol.subarray(i * CHUNK, (i + 1) * CHUNK)),
  };
}

function sink(size: number): RestoreSink & { data: Buffer } {
  const data = Buffer.alloc(size);
  return {
    data,
    writeChunk: async (i, d, len) => {
      if (d) d.copy(data, i * CHUNK);
      else data.fill(0, i * CHUNK, i * CHUNK + len);
    },
  };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function backupRound(
  name: string,
  target: BackupTarget,
  vol: Buffer,
  round: number,
  rows: Row[],
): Promise<void> {
  const repo = await Repository.init(target, { clusterId: 'bench' });
  let backupId = '';
  const bs = await timed(async () => {
    backupId = (await backupVolume({ repo, source: source(vol) })).backupId;
  });
  rows.push({
    target: name,
    what: 'backup (first, full)',
    round,
    seconds: bs,
    mbPerSec: vol.length / 1e6 / bs,
  });
  const out = sink(vol.length);
  const rs = await timed(() => restoreBackup({ repo, backupId, sink: out, chunkSizeBytes: CHUNK }));
  if (!out.data.equals(vol)) throw new Error(`${name}: restore differs`);
  rows.push({ target: name, what: 'restore', round, seconds: rs, mbPerSec: vol.length / 1e6 / rs });
  const again = await timed(() => backupVolume({ repo, source: source(vol), parent: backupId }));
  rows.push({
    target: name,
    what: 'backup again (all read, all deduplicated)',
    round,
    seconds: again,
    mbPerSec: vol.length / 1e6 / again,
  });
}

export async function runBackupSuite(o: BackupBenchOptions): Promise<string> {
  const vol = makeVolume(o.sizeBytes);
  const rows: Row[] = [];
  const rgw = await startRadosgw();
  const client = new S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKey, secretAccessKey: rgw.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    for (let round = 1; round <= o.rounds; round++) {
      // Plain SDK: the same bytes as one multipart upload (16 MiB parts, 4 in flight) and one GET.
      const key = `plain/round-${round}`;
      const up = await timed(() =>
        new Upload({
          client,
          params: { Bucket: rgw.bucket, Key: key, Body: vol },
          partSize: 16 * 1024 * 1024,
          queueSize: 4,
        }).done(),
      );
      rows.push({
        target: 'radosgw',
        what: 'plain SDK multipart upload',
        round,
        seconds: up,
        mbPerSec: vol.length / 1e6 / up,
      });
      const down = await timed(async () => {
        const r = await client.send(new GetObjectCommand({ Bucket: rgw.bucket, Key: key }));
        await r.Body!.transformToByteArray();
      });
      rows.push({
        target: 'radosgw',
        what: 'plain SDK GET',
        round,
        seconds: down,
        mbPerSec: vol.length / 1e6 / down,
      });
      const s3 = new S3Target({
        bucket: rgw.bucket,
        prefix: `repo-${round}`,
        endpoint: rgw.endpoint,
        region: rgw.region,
        accessKeyId: rgw.accessKey,
        secretAccessKey: rgw.secretKey,
      });
      try {
        await backupRound('radosgw', s3, vol, round, rows);
      } finally {
        s3.destroy();
      }

      const dir = mkdtempSync(join(o.scratch, 'bench-backup-'));
      try {
        const file = join(dir, 'plain');
        const w = await timed(async () => writeFileSync(file, vol, { flush: true }));
        rows.push({
          target: 'directory',
          what: 'plain file write + fsync',
          round,
          seconds: w,
          mbPerSec: vol.length / 1e6 / w,
        });
        const r = await timed(async () => readFileSync(file));
        rows.push({
          target: 'directory',
          what: 'plain file read (page cache)',
          round,
          seconds: r,
          mbPerSec: vol.length / 1e6 / r,
        });
        await backupRound('directory', new DirectoryTarget(join(dir, 'repo')), vol, round, rows);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    client.destroy();
    await rgw.stop();
  }
  writeFileSync(
    join(o.resultsDir, 'backup.json'),
    JSON.stringify({ sizeBytes: o.sizeBytes, loadavg: loadavg(), rows }, null, 2),
  );
  const lines = [
    `## Backup (issue 17): ${(o.sizeBytes / 1024 / 1024).toFixed(0)} MiB, half random, half compressible; load average at the end ${loadavg()[0]!.toFixed(1)}`,
    '',
    '| target | what | round | MB/s | s |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${r.what} | ${r.round} | ${r.mbPerSec.toFixed(1)} | ${r.seconds.toFixed(2)} |`,
    ),
    '',
  ];
  const md = lines.join('\n');
  process.stdout.write(`${md}\n`);
  return md;
}

/**
 * Issue 17's acceptance numbers at full size on a directory target: a full backup of a volume
 * of random data, then 1 % of its 4 KiB blocks changed at random (the source names the 4 MiB
 * chunks holding them) and an incremental, then a backup of a clone (the same bytes as another
 * volume, no parent), then a restore checked by SHA-256. Bytes the target received are counted
 * per backup. The volume lives in memory in 1 GiB pieces.
 */
export async function runBackupAcceptance(o: {
  sizeBytes: number;
  scratch: string;
  resultsDir: string;
}): Promise<string> {
  const GiB = 1024 ** 3;
  const size = o.sizeBytes;
  const pieces = Array.from({ length: Math.ceil(size / GiB) }, (_, i) =>
    randomFillSync(Buffer.allocUnsafe(Math.min(GiB, size - i * GiB))),
  );
  const at = (off: number): { piece: Buffer; rel: number } => ({
    piece: pieces[Math.floor(off / GiB)]!,
    rel: off % GiB,
  });
  const src = (changed?: Set<number>): BackupSource => ({
    sizeBytes: size,
    chunkSizeBytes: CHUNK,
    readChunk: async (i) => {
      const { piece, rel } = at(i * CHUNK);
      return Buffer.from(piece.subarray(rel, Math.min(rel + CHUNK, piece.length)));
    },
    changedSince: changed ? async () => changed : undefined,
  });
  let put = 0;
  const dir = mkdtempSync(join(o.scratch, 'bench-backup-acceptance-'));
  const lines: string[] = [];
  const say = (l: string): void => {
    lines.push(l);
    process.stdout.write(`${l}\n`);
  };
  try {
    const inner = new DirectoryTarget(dir);
    const counting: BackupTarget = {
      description: inner.description,
      put: async (key, body, opts) => {
        await inner.put(key, body, opts);
        if (Buffer.isBuffer(body)) put += body.length;
      },
      get: (k, r) => inner.get(k, r),
      head: (k) => inner.head(k),
      listPage: (p, n, s) => inner.listPage(p, n, s),
      delete: (k) => inner.delete(k),
      validate: () => inner.validate(),
    };
    const repo = await Repository.init(counting, { clusterId: 'bench' });
    let first = '';
    const full = await timed(async () => {
      first = (await backupVolume({ repo, source: src() })).backupId;
    });
    say(
      `- full backup of ${(size / GiB).toFixed(2)} GiB: ${full.toFixed(1)} s (${(size / 1e6 / full).toFixed(0)} MB/s), ${(put / GiB).toFixed(3)} GiB uploaded`,
    );
    const blocks = Math.floor(size / 4096);
    const changed = new Set<number>();
    let x = 99;
    while (changed.size < Math.round(blocks * 0.01)) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      changed.add(x % blocks);
    }
    const chunks = new Set<number>();
    for (const b of changed) {
      const { piece, rel } = at(b * 4096);
      randomFillSync(piece, rel, 4096);
      chunks.add(Math.floor((b * 4096) / CHUNK));
    }
    put = 0;
    let second = '';
    const inc = await timed(async () => {
      second = (await backupVolume({ repo, source: src(chunks), parent: first })).backupId;
    });
    say(
      `- 1 % of the 4 KiB blocks changed at random (${changed.size}): incremental ${inc.toFixed(1)} s, uploaded ${(put / 2 ** 20).toFixed(2)} MiB = ${((put / size) * 100).toFixed(3)} % of the volume (budget 1.5 %)`,
    );
    put = 0;
    const clone = await timed(() =>
      backupVolume({ repo, source: src(), labels: { volume: 'clone' } }),
    );
    say(
      `- a clone (same bytes, no parent): ${clone.toFixed(1)} s, uploaded ${put} bytes = ${((put / size) * 100).toFixed(5)} % (budget 1 %)`,
    );
    const want = createHash('sha256');
    for (const p of pieces) want.update(p);
    const got = createHash('sha256');
    const pending = new Map<number, Buffer>();
    let next = 0;
    const rs = await timed(() =>
      restoreBackup({
        repo,
        backupId: second,
        chunkSizeBytes: CHUNK,
        sink: {
          writeChunk: async (i, d, len) => {
            pending.set(i, d ?? Buffer.alloc(len));
            while (pending.has(next)) {
              got.update(pending.get(next)!);
              pending.delete(next++);
            }
          },
        },
      }),
    );
    const same = got.digest('hex') === want.digest('hex');
    say(
      `- restore of the incremental: ${rs.toFixed(1)} s (${(size / 1e6 / rs).toFixed(0)} MB/s), byte for byte: ${same}`,
    );
    if (!same) throw new Error('restore differs');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const md = [
    `## Backup acceptance (issue 17), directory target, load average ${loadavg()[0]!.toFixed(1)}`,
    '',
    ...lines,
    '',
  ].join('\n');
  writeFileSync(join(o.resultsDir, 'backup-acceptance.md'), md);
  return md;
}
