// The end-of-run checks shared by the process tests.
import type { Test } from 'tap';
import type { MetaCluster } from './real-cluster.js';
import type { VolumeWorkload } from '@ballast/testkit';

interface ClusterBody {
  members: Array<{ id: string; role: string; api: string }>;
  leader: string | null;
}

/**
 * A member that has just rejoined may answer 503 for a moment (it has not heard from the new
 * leader yet, or its ReadIndex round timed out); the check is about agreement, not availability,
 * so it retries unavailability for a bounded time.
 */
async function readWhenAvailable(
  cluster: MetaCluster,
  id: string,
  path: string,
): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await cluster.call(id, 'GET', path);
    if (r.status !== 503 || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function volumeListing(cluster: MetaCluster, id: string): Promise<string> {
  const r = await readWhenAvailable(cluster, id, '/v1/volumes?limit=1000');
  if (r.status !== 200) throw new Error(`${id}: GET /v1/volumes -> ${r.status}`);
  const items = (r.body as { items: Array<Record<string, unknown>> }).items;
  return JSON.stringify(
    items
      .map((v) => ({
        id: v['id'],
        name: v['name'],
        sizeBytes: v['sizeBytes'],
        epoch: v['epoch'],
        attachment: v['attachment'],
        replicas: v['replicas'],
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
  );
}

/**
 * Every member lists the same volumes and membership (GET /v1/volumes reads through a ReadIndex
 * barrier on each member), each volume name is read once more, and the whole history must be
 * linearizable under the per-name model: an acknowledged write that was lost fails the check.
 */
export async function checkAgreementAndHistory(
  t: Test,
  cluster: MetaCluster,
  members: string[],
  leader: string,
  workload: VolumeWorkload,
): Promise<void> {
  const listings = await Promise.all(members.map((id) => volumeListing(cluster, id)));
  for (let i = 1; i < listings.length; i++) {
    t.equal(listings[i], listings[0], `${members[i]} lists the same volumes as ${members[0]}`);
  }
  const views = await Promise.all(
    members.map(
      async (id) => (await readWhenAvailable(cluster, id, '/v1/cluster')).body as ClusterBody,
    ),
  );
  for (const v of views) {
    t.same(v.members.map((m) => m.id).sort(), [...members].sort(), 'membership agrees');
  }

  const result = await workload.finish(leader);
  const s = workload.stats;
  t.comment(
    `operations: ${s.ok} ok, ${s.refused} refused, ${s.unknown} unknown; ` +
      `history ${workload.recorder.history.length}; unknown: ${JSON.stringify(s.unknownCauses)}`,
  );
  t.same(s.unexpected, [], 'no answer outside the API contract');
  t.ok(s.ok > 100, 'many operations succeeded');
  t.equal(result.outcome, 'ok', 'history is linearizable');
  if (result.outcome === 'illegal') {
    t.comment(`illegal partition:\n${result.ops.join('\n')}`);
  }
}
