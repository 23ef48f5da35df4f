import t from 'tap';
import fc from 'fast-check';
import { GiB, MiB } from '../src/index.js';
import { placeReplicas, type PlacementRequest } from '../src/placement/index.js';
import { fcParams } from './helpers/fc-params.js';
import { MapHarness } from './helpers/map-harness.js';
import {
  fullestZone,
  isValidChoice,
  naiveEligible,
  naiveFree,
  naivePlace,
  newZones,
} from './helpers/placement-reference.js';

interface NodeSpec {
  zone: string | null;
  host: string | null;
  disk: string;
  capacityGiB: number;
  state: 'up' | 'down' | 'cordon' | 'drain';
  usedGiB: number;
}

const nodeSpec: fc.Arbitrary<NodeSpec> = fc.record({
  zone: fc.constantFrom('a', 'b', 'c', 'd', null),
  host: fc.constantFrom('h0', 'h1', 'h2', 'h3', 'h4', null),
  disk: fc.constantFrom('ssd', 'hdd'),
  capacityGiB: fc.integer({ min: 1, max: 64 }),
  state: fc.constantFrom('up', 'up', 'up', 'up', 'down', 'cordon', 'drain'),
  usedGiB: fc.integer({ min: 0, max: 40 }),
});

const scenario = fc.record({
  nodes: fc.array(nodeSpec, { minLength: 0, maxLength: 9 }),
  count: fc.integer({ min: 1, max: 4 }),
  sizeGiB: fc.integer({ min: 1, max: 24 }),
  zoneSpread: fc.constantFrom('required', 'preferred' as const),
  selector: fc.constantFrom<Record<string, string>>({}, {}, { disk: 'ssd' }),
  preferHost: fc.option(fc.constantFrom('h0', 'h1', 'h2'), { nil: undefined }),
  existing: fc.integer({ min: 0, max: 2 }),
  overProvisionPercent: fc.constantFrom(100, 100, 250),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): {
  h: MapHarness;
  request: PlacementRequest;
} {
  const h = new MapHarness();
  h.ok({ type: 'updateSettings', overProvisionPercent: s.overProvisionPercent });
  s.nodes.forEach((spec, i) => {
    const labels: Record<string, string> = { disk: spec.disk };
    if (spec.zone !== null) labels.zone = spec.zone;
    if (spec.host !== null) labels.host = spec.host;
    h.addNode(`n${i}`, labels, spec.capacityGiB * GiB);
    // Use some of the node's room with a one-replica volume, when it fits.
    const used = Math.min(spec.usedGiB, spec.capacityGiB);
    if (used > 0) {
      h.ok({
        type: 'createVolume',
        volumeId: `fill${i}`,
        name: `fill${i}`,
        sizeBytes: used * GiB,
        chunkSizeBytes: 4 * MiB,
        desiredReplicas: 1,
        constraints: { nodeSelector: {}, zoneSpread: 'preferred' },
        fs: 'ext4',
        replicaNodeIds: [`n${i}`],
      });
    }
  });
  s.nodes.forEach((spec, i) => {
    if (spec.state !== 'up') h.ok({ type: 'setNodeState', nodeId: `n${i}`, action: spec.state });
  });
  const request: PlacementRequest = {
    count: s.count,
    sizeBytes: s.sizeGiB * GiB,
    nodeSelector: s.selector,
    zoneSpread: s.zoneSpread,
    preferHost: s.preferHost,
    // Pretend the first few nodes already hold replicas (a replacement).
    existingNodeIds: s.nodes.slice(0, s.existing).map((_, i) => `n${i}`),
  };
  return { h, request };
}

t.test('placement agrees with a naive exhaustive search', async (t) => {
  let feasibleSeen = 0;
  let infeasibleSeen = 0;
  fc.assert(
    fc.property(scenario, (s) => {
      const { h, request } = build(s);
      const decision = placeReplicas(h.map, request);
      const naive = naivePlace(h.map, request);
      if (decision.ok !== naive.feasible) {
        throw new Error(`placement says ${decision.ok}, exhaustive search says ${naive.feasible}`);
      }
      if (!decision.ok) {
        infeasibleSeen++;
        if (!/^need \d+ /.test(decision.reason))
          throw new Error(`unexplained refusal: ${decision.reason}`);
        return;
      }
      feasibleSeen++;
      const eligible = naiveEligible(h.map, request);
      const chosen = decision.nodeIds.map((id) => {
        const node = eligible.find((n) => n.id === id);
        if (!node) throw new Error(`chose ineligible node ${id}`);
        return node;
      });
      if (new Set(decision.nodeIds).size !== chosen.length || chosen.length !== request.count) {
        throw new Error('wrong number of distinct nodes');
      }
      if (!isValidChoice(h.map, request, chosen)) throw new Error('choice breaks the spread rules');
      if (newZones(h.map, request, chosen) !== naive.maxNewZones) {
        throw new Error(
          `reached ${newZones(h.map, request, chosen)} new zones, ${naive.maxNewZones} possible`,
        );
      }
      if (
        request.preferHost === undefined &&
        fullestZone(h.map, request, chosen) !== naive.minFullestZone
      ) {
        throw new Error(
          `fullest zone holds ${fullestZone(h.map, request, chosen)}, ${naive.minFullestZone} possible`,
        );
      }
      if (naive.localPossible && !chosen.some((n) => n.labels.host === request.preferHost)) {
        throw new Error('a local replica was possible at no cost in spread but not chosen');
      }
      if (request.preferHost === undefined && (request.existingNodeIds ?? []).length === 0) {
        // The emptiest eligible node (free fraction, then free bytes, then id) gets a replica.
        const schedulable = (n: (typeof eligible)[number]) =>
          Math.floor(n.capacityBytes * (h.map.settings.overProvisionPercent / 100));
        const fraction = (n: (typeof eligible)[number]) => naiveFree(h.map, n) / schedulable(n);
        const best = [...eligible].sort(
          (a, b) =>
            fraction(b) - fraction(a) ||
            naiveFree(h.map, b) - naiveFree(h.map, a) ||
            (a.id < b.id ? -1 : 1),
        )[0]!;
        if (!decision.nodeIds.includes(best.id))
          throw new Error(`roomiest node ${best.id} not chosen`);
      }
      // What placement chose, the state machine accepts (when this is a new volume).
      if ((request.existingNodeIds ?? []).length === 0) {
        h.ok({
          type: 'createVolume',
          volumeId: 'placed',
          name: 'placed',
          sizeBytes: request.sizeBytes,
          chunkSizeBytes: 4 * MiB,
          desiredReplicas: request.count,
          constraints: { nodeSelector: request.nodeSelector, zoneSpread: request.zoneSpread },
          fs: 'xfs',
          replicaNodeIds: decision.nodeIds,
        });
      }
    }),
    fcParams(400),
  );
  t.ok(feasibleSeen > 50, `feasible cases exercised (${feasibleSeen})`);
  t.ok(infeasibleSeen > 50, `infeasible cases exercised (${infeasibleSeen})`);
});
