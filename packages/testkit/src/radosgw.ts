import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { ManagedProcess, waitFor } from './managed-process.js';
import { freePort, releasePort } from './ports.js';

/** A real S3 endpoint: Ceph's radosgw over one mon and one BlueStore OSD, all on 127.0.0.1. */
export interface Radosgw {
  endpoint: string;
  region: string;
  accessKey: string;
  secretKey: string;
  /** A bucket created for the caller. */
  bucket: string;
  dir: string;
  /** SIGKILLs radosgw only (the S3 endpoint goes down; mon and OSD keep the data). */
  stopGateway(): Promise<void>;
  /** Starts radosgw again on the same port and waits until it answers. */
  startGateway(): Promise<void>;
  /** Stops every process and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface RadosgwOptions {
  bucket?: string;
  /** Bound on the whole boot; default 90 s (about 7 s on a quiet machine). */
  bootTimeoutMs?: number;
}

const BINARIES = [
  'ceph-mon',
  'ceph-osd',
  'radosgw',
  'ceph',
  'ceph-authtool',
  'monmaptool',
  'radosgw-admin',
];
const PACKAGES = 'ceph-mon ceph-osd ceph-common radosgw';

function findBinary(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/bin:/bin')
    .split(':')
    .concat(['/usr/bin', '/usr/sbin'])) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws a clear error when the Ceph binaries are not installed (it installs nothing itself). */
export function checkRadosgwInstalled(): void {
  const missing = BINARIES.filter((b) => findBinary(b) === undefined);
  if (missing.length > 0) {
    throw new Error(
      `startRadosgw: ${missing.join(', ')} not found; install them with ` +
        `apt-get install -y --no-install-recommends ${PACKAGES} (.ci/run does)`,
    );
  }
}

function run(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/**
 * Boots a throwaway Ceph cluster with radosgw in its own temp dir on free ports, creates an S3
 * user and a bucket, and returns how to reach it. Every process is stopped and the directory
 * removed by `stop()`, and also when the boot fails (the error carries the daemons' log tails).
 * Follows /work/shared/reference/s3-for-tests.md (pool size 1, fast paxos, no mgr).
 */
export async function startRadosgw(opts: RadosgwOptions = {}): Promise<Radosgw> {
  checkRadosgwInstalled();
  const deadline = Date.now() + (opts.bootTimeoutMs ?? 90_000);
  const left = (): number => Math.max(1_000, deadline - Date.now());
  const dir = mkdtempSync(join(tmpdir(), 'ballast-rgw-'));
  const procs: ManagedProcess[] = [];
  const ports: number[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const p of [...procs].reverse()) await p.kill().catch(() => undefined);
    for (const port of ports) releasePort(port);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const monPort = await freePort();
    const rgwPort = await freePort();
    ports.push(monPort, rgwPort);
    // Daemons pick the first free port of this range themselves; a random base keeps parallel
    // fixtures (other test files, other checkouts) apart.
    const base = 20000 + Math.floor(Math.random() * 400) * 100;
    for (const d of ['run', 'log', 'mon/ceph-a', 'osd/ceph-0', 'rgw/ceph-rgw.a'])
      mkdirSync(join(dir, d), { recursive: true });
    const conf = join(dir, 'ceph.conf');
    const fsid = randomUUID();
    writeFileSync(
      conf,
      [
        '[global]',
        `fsid = ${fsid}`,
        `mon_host = [v2:127.0.0.1:${monPort}]`,
        'public_addr = 127.0.0.1',
        'public_network = 127.0.0.0/8',
        'ms_bind_ipv6 = false',
        'ms_bind_msgr1 = false',
        `ms_bind_port_min = ${base}`,
        `ms_bind_port_max = ${base + 99}`,
        `run_dir = ${dir}/run`,
        `pid_file = ${dir}/run/$name.pid`,
        `admin_socket = ${dir}/run/$name.asok`,
        `log_file = ${dir}/log/$name.log`,
        `crash_dir = ${dir}/crash`,
        `mon_data = ${dir}/mon/$cluster-$id`,
        `osd_data = ${dir}/osd/$cluster-$id`,
        `rgw_data = ${dir}/rgw/$cluster-$id`,
        `keyring = ${dir}/ceph.client.admin.keyring`,
        'osd_pool_default_size = 1',
        'osd_pool_default_min_size = 1',
        'osd_pool_default_pg_num = 8',
        'osd_pool_default_pgp_num = 8',
        'osd_pool_default_pg_autoscale_mode = off',
        'mon_warn_on_pool_no_redundancy = false',
        'mon_data_avail_warn = 1',
        'mon_data_avail_crit = 0',
        'paxos_propose_interval = 0.1',
        '[mon]',
        'keyring = $mon_data/keyring',
        '[osd]',
        'keyring = $osd_data/keyring',
        'osd_objectstore = bluestore',
        'bluestore_block_create = true',
        'bluestore_block_size = 8589934592',
        'osd_memory_target = 1073741824',
        '[client.rgw.a]',
        'keyring = $rgw_data/keyring',
        `rgw_frontends = beast endpoint=127.0.0.1:${rgwPort}`,
        'rgw_thread_pool_size = 64',
        '',
      ].join('\n'),
    );
    const c = ['-c', conf];
    const monKeyring = join(dir, 'mon.keyring');
    const adminKeyring = join(dir, 'ceph.client.admin.keyring');
    await run('ceph-authtool', [
      '--create-keyring',
      monKeyring,
      '--gen-key',
      '-n',
      'mon.',
      '--cap',
      'mon',
      'allow *',
    ]);
    await run('ceph-authtool', [
      '--create-keyring',
      adminKeyring,
      '--gen-key',
      '-n',
      'client.admin',
      '--cap',
      'mon',
      'allow *',
      '--cap',
      'osd',
      'allow *',
      '--cap',
      'mds',
      'allow *',
      '--cap',
      'mgr',
      'allow *',
    ]);
    await run('ceph-authtool', [monKeyring, '--import-keyring', adminKeyring]);
    await run('monmaptool', [
      '--create',
      '--fsid',
      fsid,
      '--addv',
      'a',
      `[v2:127.0.0.1:${monPort}]`,
      join(dir, 'monmap'),
    ]);
    await run('ceph-mon', [
      ...c,
      '--mkfs',
      '-i',
      'a',
      '--monmap',
      join(dir, 'monmap'),
      '--keyring',
      monKeyring,
    ]);

    const daemon = (id: string, command: string, args: string[]): ManagedProcess => {
      const p = new ManagedProcess({ id, command, args, logFile: join(dir, 'log', `${id}.out`) });
      procs.push(p);
      return p;
    };
    await daemon('ceph-mon', 'ceph-mon', [...c, '-i', 'a', '-f']).start();
    await waitFor(
      'the mon',
      () => run('ceph', [...c, 'mon', 'stat'], { timeoutMs: 10_000 }).then(() => true),
      { timeoutMs: left(), intervalMs: 200 },
    );

    const osdUuid = randomUUID();
    const secret = (await run('ceph-authtool', ['--gen-print-key'])).trim();
    await run('ceph', [...c, 'osd', 'new', osdUuid, '-i', '-'], {
      input: JSON.stringify({ cephx_secret: secret }),
    });
    await run('ceph-authtool', [
      '--create-keyring',
      join(dir, 'osd/ceph-0/keyring'),
      '--name',
      'osd.0',
      '--add-key',
      secret,
    ]);
    await run('ceph-osd', [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid], {
      timeoutMs: left(),
    });
    await daemon('ceph-osd', 'ceph-osd', [...c, '-i', '0', '-f']).start();
    await waitFor(
      'the OSD to be up',
      async () =>
        (
          JSON.parse(
            await run('ceph', [...c, 'osd', 'stat', '-f', 'json'], { timeoutMs: 10_000 }),
          ) as { num_up_osds?: number }
        ).num_up_osds === 1,
      { timeoutMs: left(), intervalMs: 250 },
    );

    await run('ceph', [
      ...c,
      'auth',
      'get-or-create',
      'client.rgw.a',
      'mon',
      'allow rw',
      'osd',
      'allow rwx',
      'mgr',
      'allow rw',
      '-o',
      join(dir, 'rgw/ceph-rgw.a/keyring'),
    ]);
    const rgw = daemon('radosgw', 'radosgw', [...c, '-n', 'client.rgw.a', '-f']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    const answers = async (): Promise<boolean> => {
      try {
        const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        return res.status === 200;
      } catch {
        return false;
      }
    };
    const startGateway = async (): Promise<void> => {
      await rgw.start();
      await waitFor('radosgw to answer', answers, {
        timeoutMs: Math.max(left(), 30_000),
        intervalMs: 100,
      });
    };
    await startGateway();

    const accessKey = randomBytes(10).toString('hex').toUpperCase();
    const secretKey = randomBytes(20).toString('hex');
    await run(
      'radosgw-admin',
      [
        ...c,
        'user',
        'create',
        '--uid=ballast-test',
        '--display-name=ballast-test',
        `--access-key=${accessKey}`,
        `--secret-key=${secretKey}`,
      ],
      { timeoutMs: left() },
    );
    const bucket = opts.bucket ?? 'ballast-test';
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
    return {
      endpoint,
      region: 'us-east-1',
      accessKey,
      secretKey,
      bucket,
      dir,
      stopGateway: async () => {
        await rgw.kill();
      },
      startGateway: async () => {
        await rgw.start();
        await waitFor('radosgw to answer', answers, { timeoutMs: 30_000, intervalMs: 100 });
      },
      stop,
    };
  } catch (err) {
    const tails = procs.map((p) => `--- ${p.id}:\n${p.tail(15)}`).join('\n');
    await stop();
    throw new Error(`startRadosgw failed: ${(err as Error).message}\n${tails}`, { cause: err });
  }
}
