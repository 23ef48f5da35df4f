// Storage nodes as meta sees them: registered through the API and kept alive with heartbeats, so
// that placement has three zones to choose from. No data plane behind them (meta never dials it).
import type { MetaCluster } from './real-cluster.js';

export const FAKE_NODES = [
  { id: 'node-a', zone: 'zone-a', address: '127.0.0.1:1' },
  { id: 'node-b', zone: 'zone-b', address: '127.0.0.1:2' },
  { id: 'node-c', zone: 'zone-c', address: '127.0.0.1:3' },
];

export async function registerFakeNodes(cluster: MetaCluster, via: string): Promise<void> {
  for (const n of FAKE_NODES) {
    const r = await cluster.call(via, 'POST', '/v1/nodes', {
      id: n.id,
      address: n.address,
      labels: { zone: n.zone, host: n.id },
      capacityBytes: 2 ** 40,
    });
    if (r.status !== 200 && r.status !== 201) {
      throw new Error(`registering ${n.id} failed: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }
}

/**
 * Heartbeats every `intervalMs` to every live member (only the leader accepts them), until the
 * returned stop function is called. Errors are expected while members die and elect.
 */
export function keepNodesAlive(
  cluster: MetaCluster,
  members: () => string[],
  intervalMs = 500,
): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    for (let round = 0; round < 1_000_000 && !stopped; round++) {
      await Promise.all(
        members().flatMap((m) =>
          FAKE_NODES.map((n) =>
            cluster
              .call(m, 'POST', `/v1/nodes/${n.id}/heartbeat`, {}, 2_000)
              .catch(() => undefined),
          ),
        ),
      );
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
