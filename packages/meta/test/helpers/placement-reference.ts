import type { ClusterMapReader, NodeRecord } from '../../src/index.js';
import type { PlacementRequest } from '../../src/placement/index.js';

/**
 * A deliberately naive placement: tries every subset of nodes of the requested size and keeps the
 * ones that satisfy the rules, written out again from the rules' text (not from the fast
 * implementation's helpers). Exponential; for small clusters in property tests only.
 */

function own(labels: Record<string, string>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
}

function zone(node: NodeRecord): string {
  return own(node.labels, 'zone') ?? '';
}

function host(node: NodeRecord): string {
  return zone(node) + '/' + (own(node.labels, 'host') ?? 'node:' + node.id);
}

export function naiveFree(map: ClusterMapReader, node: NodeRecord): number {
  let provisioned = 0;
  for (const volume of map.listVolumes()) {
    for (const replica of volume.replicas)
      if (replica.nodeId === node.id) provisioned += volume.sizeBytes;
  }
  return Math.floor(node.capacityBytes * (map.settings.overProvisionPercent / 100)) - provisioned;
}

export function naiveEligible(map: ClusterMapReader, request: PlacementRequest): NodeRecord[] {
  const out: NodeRecord[] = [];
  for (const node of map.listNodes()) {
    if (node.state !== 'up') continue;
    if ((request.excludeNodeIds ?? []).includes(node.id)) continue;
    if ((request.existingNodeIds ?? []).includes(node.id)) continue;
    let matches = true;
    for (const [k, v] of Object.entries(request.nodeSelector))
      if (own(node.labels, k) !== v) matches = false;
    if (!matches) continue;
    if (naiveFree(map, node) < request.sizeBytes) continue;
    out.push(node);
  }
  return out;
}

function* subsets<T>(items: T[], k: number, start = 0, acc: T[] = []): Generator<T[]> {
  if (acc.length === k) {
    yield [...acc];
    return;
  }
  for (let i = start; i < items.length; i++) {
    acc.push(items[i]!);
    yield* subsets(items, k, i + 1, acc);
    acc.pop();
  }
}

export interface NaiveAnswer {
  feasible: boolean;
  /** Most distinct zones, not already used by existing replicas, that a valid choice reaches. */
  maxNewZones: number;
  /** Smallest possible number of replicas (existing + new) in the fullest zone. */
  minFullestZone: number;
  /** Whether some valid choice reaching maxNewZones puts a replica on the preferred host. */
  localPossible: boolean;
}

export function existingOf(map: ClusterMapReader, request: PlacementRequest): NodeRecord[] {
  return (request.existingNodeIds ?? [])
    .map((id) => map.getNode(id))
    .filter((n): n is NodeRecord => n !== undefined);
}

export function isValidChoice(
  map: ClusterMapReader,
  request: PlacementRequest,
  chosen: NodeRecord[],
): boolean {
  const existing = existingOf(map, request);
  const hosts = new Set(existing.map(host));
  const zones = new Set(existing.map(zone));
  for (const node of chosen) {
    if (hosts.has(host(node))) return false;
    hosts.add(host(node));
    if (request.zoneSpread === 'required') {
      if (zones.has(zone(node))) return false;
    }
    zones.add(zone(node));
  }
  return true;
}

export function newZones(
  map: ClusterMapReader,
  request: PlacementRequest,
  chosen: NodeRecord[],
): number {
  const existingZones = new Set(existingOf(map, request).map(zone));
  return new Set(chosen.map(zone).filter((z) => !existingZones.has(z))).size;
}

export function fullestZone(
  map: ClusterMapReader,
  request: PlacementRequest,
  chosen: NodeRecord[],
): number {
  const count = new Map<string, number>();
  for (const node of [...existingOf(map, request), ...chosen])
    count.set(zone(node), (count.get(zone(node)) ?? 0) + 1);
  return Math.max(0, ...count.values());
}

export function naivePlace(map: ClusterMapReader, request: PlacementRequest): NaiveAnswer {
  const eligible = naiveEligible(map, request);
  let feasible = false;
  let maxNewZones = -1;
  let minFullestZone = Infinity;
  let localPossible = false;
  for (const choice of subsets(eligible, request.count)) {
    if (!isValidChoice(map, request, choice)) continue;
    feasible = true;
    const zones = newZones(map, request, choice);
    const local =
      request.preferHost !== undefined &&
      choice.some((n) => own(n.labels, 'host') === request.preferHost);
    if (zones > maxNewZones) {
      maxNewZones = zones;
      localPossible = local;
    } else if (zones === maxNewZones && local) {
      localPossible = true;
    }
    minFullestZone = Math.min(minFullestZone, fullestZone(map, request, choice));
  }
  return { feasible, maxNewZones, minFullestZone, localPossible };
}
