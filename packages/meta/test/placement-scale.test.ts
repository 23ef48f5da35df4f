import t from 'tap';
import {
  ClusterMap,
  GiB,
  MiB,
  TiB,
  checkInvariants,
  hostKeyOf,
  replicaIneligibility,
  zoneOf,
  type ApplyResult,
  type NodeRecord,
} from '../src/index.js';
import { placeReplacement, placeReplicas, type PlacementRequest } from '../src/placement/index.js';

/** mulberry32: a small seeded PRNG, so the model is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sortedNs: bigint[], p: number): number {
  const i = Math.min(sortedNs.length - 1, Math.ceil((p / 100) * sortedNs.length) - 1);
  return Number(sortedNs[Math.max(0, i)]!) / 1000;
}

const SEED = Number(process.env.SCALE_SEED ?? 20240601);

t.test('placement on 100 nodes in 5 zones with 10,000 volumes stays correct', async (t) => {
  t.comment(`seed ${SEED} (replay: SCALE_SEED=${SEED} npx tap dist/test/placement-scale.test.js)`);
  const random = prng(SEED);
  const map = new ClusterMap();
  let index = 0;
  let at = 1_700_000_000_000;
  const apply = (command: object): ApplyResult =>
    map.apply({ ...command, at: at++ }, ++index).result;

  // 5 zones x 10 hosts x 2 nodes; 40% of the nodes have SSDs.
  for (let i = 0; i < 100; i++) {
    const zone = `zone-${i % 5}`;
    const labels: Record<string, string> = { zone, host: `${zone}-host-${Math.floor(i / 5) % 10}` };
    if (random() < 0.4) labels.disk = 'ssd';
    const r = apply({
      type: 'registerNode',
      nodeId: `node-${String(i).padStart(3, '0')}`,
      address: `10.0.${Math.floor(i / 250)}.${i % 250}:7100`,
      labels,
      capacityBytes: Math.floor(4 + random() * 12) * TiB,
      usedBytes: 0,
    });
    if (!r.ok) t.fail(JSON.stringify(r));
  }
  t.equal(map.listNodes().length, 100);

  const timesNs: bigint[] = [];
  let placed = 0;
  let refused = 0;
  const problems: string[] = [];
  const check = (request: PlacementRequest, nodeIds: string[]) => {
    const nodes = nodeIds.map((id) => map.getNode(id)!);
    const existing = (request.existingNodeIds ?? []).map((id) => map.getNode(id)!);
    const hosts = new Set([...existing, ...nodes].map(hostKeyOf));
    if (hosts.size !== existing.length + nodes.length)
      problems.push(`two replicas on one host: ${nodeIds}`);
    if (request.zoneSpread === 'required') {
      const zones = new Set([...existing, ...nodes].map(zoneOf));
      if (zones.size !== existing.length + nodes.length)
        problems.push(`zones not distinct: ${nodeIds}`);
    }
    for (const node of nodes) {
      const why = replicaIneligibility(
        node,
        map.provisionedBytes(node.id),
        request.sizeBytes,
        request.nodeSelector,
        map.settings,
      );
      if (why) problems.push(`ineligible ${node.id}: ${why.detail}`);
    }
  };
  /** Whether any valid choice exists, counted directly: zones or hosts with an eligible node. */
  const feasible = (request: PlacementRequest): boolean => {
    const eligible = map
      .listNodes()
      .filter(
        (n: NodeRecord) =>
          !(request.existingNodeIds ?? []).includes(n.id) &&
          !(request.excludeNodeIds ?? []).includes(n.id) &&
          replicaIneligibility(
            n,
            map.provisionedBytes(n.id),
            request.sizeBytes,
            request.nodeSelector,
            map.settings,
          ) === null,
      );
    const existing = (request.existingNodeIds ?? []).map((id) => map.getNode(id)!);
    if (request.zoneSpread === 'required') {
      const used = new Set(existing.map(zoneOf));
      return new Set(eligible.map(zoneOf).filter((z) => !used.has(z))).size >= request.count;
    }
    const used = new Set(existing.map(hostKeyOf));
    return new Set(eligible.map(hostKeyOf).filter((h) => !used.has(h))).size >= request.count;
  };

  for (let v = 0; v < 10_000; v++) {
    const request: PlacementRequest = {
      count: 1 + Math.floor(random() * 3),
      sizeBytes: (1 + Math.floor(random() * 50)) * GiB,
      nodeSelector: random() < 0.2 ? { disk: 'ssd' } : {},
      zoneSpread: random() < 0.7 ? 'required' : 'preferred',
      preferHost:
        random() < 0.3
          ? `zone-${Math.floor(random() * 5)}-host-${Math.floor(random() * 10)}`
          : undefined,
    };
    const start = process.hrtime.bigint();
    const decision = placeReplicas(map, request);
    timesNs.push(process.hrtime.bigint() - start);
    if (!decision.ok) {
      refused++;
      if (feasible(request)) problems.push(`refused a feasible request: ${decision.reason}`);
      continue;
    }
    check(request, decision.nodeIds);
    const r = apply({
      type: 'createVolume',
      volumeId: `vol-${v}`,
      name: `volume-${v}`,
      sizeBytes: request.sizeBytes,
      chunkSizeBytes: 4 * MiB,
      desiredReplicas: request.count,
      constraints: { nodeSelector: request.nodeSelector, zoneSpread: request.zoneSpread },
      fs: 'ext4',
      replicaNodeIds: decision.nodeIds,
    });
    if (!r.ok) problems.push(`state machine refused a placement: ${r.error.message}`);
    else placed++;
  }
  checkInvariants(map);

  // Five nodes fail; every replica on them is replaced keeping the spread.
  const failed = ['node-007', 'node-023', 'node-041', 'node-066', 'node-090'];
  for (const nodeId of failed)
    apply({ type: 'setNodeState', nodeId, action: 'down', reason: 'test' });
  let replaced = 0;
  let unreplaceable = 0;
  const replacementNs: bigint[] = [];
  for (const nodeId of failed) {
    for (const volumeId of map.volumesOnNode(nodeId)) {
      const volume = map.getVolume(volumeId)!;
      const start = process.hrtime.bigint();
      const decision = placeReplacement(map, volume, nodeId);
      replacementNs.push(process.hrtime.bigint() - start);
      const request: PlacementRequest = {
        count: 1,
        sizeBytes: volume.sizeBytes,
        nodeSelector: volume.constraints.nodeSelector,
        zoneSpread: volume.constraints.zoneSpread,
        existingNodeIds: volume.replicas.map((r) => r.nodeId).filter((id) => id !== nodeId),
        excludeNodeIds: [nodeId],
      };
      if (!decision.ok) {
        unreplaceable++;
        if (feasible(request)) problems.push(`refused a feasible replacement: ${decision.reason}`);
        continue;
      }
      check(request, decision.nodeIds);
      const newNode = decision.nodeIds[0]!;
      for (const command of [
        { type: 'addReplica', volumeId, nodeId: newNode, replacing: nodeId },
        { type: 'promoteReplica', volumeId, nodeId: newNode, epoch: volume.epoch },
        { type: 'removeReplica', volumeId, nodeId, force: false },
      ]) {
        const r = apply(command);
        if (!r.ok) problems.push(`${command.type} refused: ${r.error.message}`);
      }
      replaced++;
    }
  }
  checkInvariants(map);
  const left = failed.reduce((n, id) => n + map.volumesOnNode(id).length, 0);
  t.equal(left, unreplaceable, 'only replicas without a candidate remain on the failed nodes');

  t.same(problems.slice(0, 10), [], 'every decision valid, every refusal justified');
  t.ok(placed > 9000, `most volumes placed (${placed} placed, ${refused} refused)`);
  t.ok(replaced > 500, `replacements made (${replaced}, ${unreplaceable} without a candidate)`);

  timesNs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  replacementNs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const utilisation = map
    .listNodes()
    .filter((n) => n.state === 'up')
    .map((n) => map.provisionedBytes(n.id) / n.capacityBytes);
  t.comment(
    `placement per decision: p50 ${percentile(timesNs, 50).toFixed(1)} us, p99 ${percentile(timesNs, 99).toFixed(1)} us, max ${percentile(timesNs, 100).toFixed(1)} us over ${timesNs.length} decisions`,
  );
  t.comment(
    `replacement per decision: p50 ${percentile(replacementNs, 50).toFixed(1)} us, p99 ${percentile(replacementNs, 99).toFixed(1)} us over ${replacementNs.length}`,
  );
  t.comment(
    `provisioned/capacity on up nodes: min ${(Math.min(...utilisation) * 100).toFixed(1)}%, max ${(Math.max(...utilisation) * 100).toFixed(1)}%; ${placed} volumes placed, ${refused} refused; ${replaced} replicas replaced`,
  );
});
