// Scale (issue 5): one agent process holds 200 attached volumes (thin, small, 3 replicas each)
// at once, with I/O through a few of them, inside a bounded budget of memory and file
// descriptors per attached volume; attach latency and the per-volume cost are measured and
// printed. Detaching all of them gives the descriptors back, and the agent's attachment limit
// refuses the one past it with a clear error.
import * as fs from 'node:fs';
import t from 'tap';
import { adminCall } from '../helpers/admin.js';
import { startCluster } from '../helpers/cluster.js';
import { needsRoot, run } from '../helpers/env.js';

const VOLUMES = Number(process.env.BALLAST_SCALE_VOLUMES ?? 200);
const REPLICAS = 3;
const MiB = 1024 * 1024;
/**
 * The budget per attached volume. Descriptors: one data-plane connection per replica and the
 * export's listening socket, plus slack for a reconnect in progress. Memory: generous, to hold
 * on a loaded machine; the measured value is printed.
 */
const MAX_FDS_PER_VOLUME = REPLICAS + 3;
const MAX_RSS_PER_VOLUME_BYTES = 4 * MiB;

function processStats(pid: number): { rssBytes: number; fds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return { rssBytes: rssKb * 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

if (needsRoot(t)) {
  t.test(`one agent holds ${VOLUMES} attached volumes within a bounded budget`, async (t) => {
    const c = await startCluster(t, { prefix: 'ballast-scale-' });
    const agent = await c.agent('scalehost', ['--max-nbd-attachments', String(VOLUMES)]);
    const pid = agent.process.child.pid!;
    const names = Array.from({ length: VOLUMES }, (_, i) => `s${String(i).padStart(3, '0')}`);
    for (const name of names) {
      await c.api('POST', '/v1/volumes', { name, size: 32 * MiB, replicas: REPLICAS });
    }
    await c.api('POST', '/v1/volumes', { name: 'one-too-many', size: 32 * MiB, replicas: 1 });
    // Warm up (first attach loads code paths and opens the map watch), then take the baseline.
    const warm = await adminCall(agent.adminSocket, 'POST', `/v1/volumes/one-too-many/attach`, {});
    t.equal(warm.status, 200, warm.text);
    t.equal(
      (await adminCall(agent.adminSocket, 'POST', `/v1/volumes/one-too-many/detach`, {})).status,
      200,
    );
    global.gc?.();
    const before = processStats(pid);

    const latenciesMs: number[] = [];
    const uris: string[] = [];
    for (const name of names) {
      const started = process.hrtime.bigint();
      const reply = await adminCall(agent.adminSocket, 'POST', `/v1/volumes/${name}/attach`, {});
      latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (reply.status !== 200) {
        t.fail(`attach ${name}: ${reply.text}`);
        return;
      }
      uris.push(reply.body.uri as string);
    }
    const status = await adminCall(agent.adminSocket, 'GET', '/v1/attachments');
    t.equal((status.body.items as unknown[]).length, VOLUMES, `${VOLUMES} volumes attached`);
    const limit = await adminCall(agent.adminSocket, 'POST', '/v1/volumes/one-too-many/attach', {});
    t.equal(limit.status, 503, 'the attachment limit holds');
    t.match(limit.body.message, new RegExp(`already serves ${VOLUMES} raw attachments`));

    // I/O on a few of them while all are attached.
    for (const uri of [uris[0]!, uris[Math.floor(VOLUMES / 2)]!, uris[VOLUMES - 1]!]) {
      const io = await run(
        'qemu-io',
        [
          '-f',
          'raw',
          '-c',
          'write -P 0x3c 0 4M',
          '-c',
          'write -z 8M 1M',
          '-c',
          'read -P 0x3c 0 4M',
          '-c',
          'read -P 0 8M 1M',
          uri,
        ],
        { timeoutMs: 120_000 },
      );
      t.equal(io.code, 0, `qemu-io on ${uri}: ${io.stderr}`);
      t.notMatch(io.stdout, /Pattern verification failed/);
    }
    const after = processStats(pid);
    const rssPerVolume = (after.rssBytes - before.rssBytes) / VOLUMES;
    const fdsPerVolume = (after.fds - before.fds) / VOLUMES;
    const sorted = [...latenciesMs].sort((x, y) => x - y);
    const summary = {
      volumes: VOLUMES,
      replicasEach: REPLICAS,
      rssBeforeMiB: +(before.rssBytes / MiB).toFixed(1),
      rssAfterMiB: +(after.rssBytes / MiB).toFixed(1),
      rssPerVolumeKiB: Math.round(rssPerVolume / 1024),
      fdsBefore: before.fds,
      fdsAfter: after.fds,
      fdsPerVolume: +fdsPerVolume.toFixed(2),
      attachMs: {
        p50: +percentile(sorted, 50).toFixed(1),
        p95: +percentile(sorted, 95).toFixed(1),
        p99: +percentile(sorted, 99).toFixed(1),
        max: +sorted[sorted.length - 1]!.toFixed(1),
      },
      loadAverage: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    };
    t.comment(`scale: ${JSON.stringify(summary)}`);
    t.ok(
      fdsPerVolume <= MAX_FDS_PER_VOLUME,
      `${fdsPerVolume.toFixed(2)} descriptors per attached volume (budget ${MAX_FDS_PER_VOLUME})`,
    );
    t.ok(
      rssPerVolume <= MAX_RSS_PER_VOLUME_BYTES,
      `${Math.round(rssPerVolume / 1024)} KiB of RSS per attached volume (budget ${MAX_RSS_PER_VOLUME_BYTES / 1024} KiB)`,
    );

    for (const name of names) {
      const reply = await adminCall(agent.adminSocket, 'POST', `/v1/volumes/${name}/detach`, {});
      if (reply.status !== 200) {
        t.fail(`detach ${name}: ${reply.text}`);
        return;
      }
    }
    const released = processStats(pid);
    t.comment(
      `after detaching all: ${released.fds} descriptors, ${(released.rssBytes / MiB).toFixed(1)} MiB RSS`,
    );
    t.ok(
      released.fds <= before.fds + REPLICAS + 2,
      `descriptors come back (${released.fds} after, ${before.fds} before)`,
    );
    const volumes = (await c.api('GET', '/v1/volumes?limit=1000')) as {
      items: Array<{ attachment: unknown }>;
    };
    t.equal(
      volumes.items.filter((v) => v.attachment !== null).length,
      0,
      'meta shows every volume detached',
    );
  });
}
