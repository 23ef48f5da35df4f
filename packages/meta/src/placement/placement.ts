import { formatSize } from '@ballast/common';
import {
  compare,
  describeSelector,
  describeZone,
  freeBytes,
  hostKeyOf,
  labelValue,
  replicaIneligibility,
  schedulableBytes,
  zoneOf,
  type ClusterMapReader,
  type IneligibleReason,
  type Labels,
  type NodeRecord,
  type VolumeRecord,
  type ZoneSpread,
} from '../map/index.js';

/**
 * Placement: which nodes get the replicas of a volume. A pure function of the map (no clock, no
 * randomness, ties broken by id), run by the leader before it proposes; the state machine
 * re-checks the chosen nodes when it applies the command.
 *
 * Rules, in order:
 * 1. Only `up` nodes that match the node selector and have room (see eligibility.ts).
 * 2. Never two replicas on one host (host = zone + `host` label, or the node itself).
 * 3. Spread over zones: with `required` every replica in its own zone; with `preferred` as many
 *    zones as possible, then as evenly as possible (water-filling: each pick goes to the zone
 *    holding the fewest replicas so far).
 * 4. Among equals, the node with the largest free fraction of its schedulable bytes (nodes fill
 *    in proportion to their size), then the most free bytes, then the smallest id.
 * An optional locality hint puts one replica on a given host, when that costs no spread: it wins
 * the tie whenever its zone is among the emptiest at some step.
 */

export interface PlacementRequest {
  /** How many new replicas to place. */
  count: number;
  sizeBytes: number;
  nodeSelector: Labels;
  zoneSpread: ZoneSpread;
  /** The `host` label of a node that should hold one replica (data locality), if it can. */
  preferHost?: string | undefined;
  /** Nodes already holding replicas of the volume: their hosts and zones count as used. */
  existingNodeIds?: readonly string[];
  /** Nodes that must not be chosen (for instance the one whose replica is being replaced). */
  excludeNodeIds?: readonly string[];
}

export type PlacementDecision =
  { ok: true; nodeIds: string[] } | { ok: false; reason: string; missing: number };

interface Candidate {
  node: NodeRecord;
  zone: string;
  hostKey: string;
  free: number;
  /** free / schedulable: ranking by it fills nodes in proportion to their size. */
  freeFraction: number;
}

/**
 * Best first: the larger free fraction, then more free bytes, then the smaller id. Ranking by
 * free bytes alone would leave small nodes empty until big ones were down to their size.
 */
function better(a: Candidate, b: Candidate): boolean {
  if (a.freeFraction !== b.freeFraction) return a.freeFraction > b.freeFraction;
  if (a.free !== b.free) return a.free > b.free;
  return compare(a.node.id, b.node.id) < 0;
}

export function placeReplicas(map: ClusterMapReader, request: PlacementRequest): PlacementDecision {
  const settings = map.settings;
  const exclude = new Set([...(request.excludeNodeIds ?? []), ...(request.existingNodeIds ?? [])]);

  // Zones and hosts the volume already occupies.
  const zoneLevel = new Map<string, number>();
  const usedHosts = new Set<string>();
  for (const id of request.existingNodeIds ?? []) {
    const node = map.getNode(id);
    if (!node) continue;
    zoneLevel.set(zoneOf(node), (zoneLevel.get(zoneOf(node)) ?? 0) + 1);
    usedHosts.add(hostKeyOf(node));
  }
  const existingZones = new Set(zoneLevel.keys());
  const nodesByZone = new Map<string, number>();

  // One candidate per host (a host takes at most one replica, so only its best node matters).
  const bestByHost = new Map<string, Candidate>();
  const refusedBy: Record<IneligibleReason, string[]> = { state: [], selector: [], room: [] };
  const roomDetails: string[] = [];
  let considered = 0;
  for (const node of map.listNodes()) {
    if (node.state === 'removed' || exclude.has(node.id)) continue;
    considered++;
    const provisioned = map.provisionedBytes(node.id);
    const why = replicaIneligibility(
      node,
      provisioned,
      request.sizeBytes,
      request.nodeSelector,
      settings,
    );
    if (why) {
      refusedBy[why.reason].push(why.reason === 'state' ? `${node.id} (${node.state})` : node.id);
      if (why.reason === 'room') {
        roomDetails.push(
          `${node.id}: ${formatSize(Math.max(0, freeBytes(node, provisioned, settings)))} free`,
        );
      }
      continue;
    }
    const free = freeBytes(node, provisioned, settings);
    const candidate: Candidate = {
      node,
      zone: zoneOf(node),
      hostKey: hostKeyOf(node),
      free,
      // free >= sizeBytes >= 1 here, so schedulable bytes are positive.
      freeFraction: free / schedulableBytes(node, settings),
    };
    if (usedHosts.has(candidate.hostKey)) continue;
    nodesByZone.set(candidate.zone, (nodesByZone.get(candidate.zone) ?? 0) + 1);
    const current = bestByHost.get(candidate.hostKey);
    if (!current || better(candidate, current)) bestByHost.set(candidate.hostKey, candidate);
  }

  // Hosts grouped by zone, best host first within each zone.
  const hostsByZone = new Map<string, Candidate[]>();
  for (const candidate of bestByHost.values()) {
    let list = hostsByZone.get(candidate.zone);
    if (!list) hostsByZone.set(candidate.zone, (list = []));
    list.push(candidate);
  }
  for (const list of hostsByZone.values())
    list.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  const nextInZone = new Map<string, number>();

  const chosen: Candidate[] = [];
  const take = (candidate: Candidate) => {
    chosen.push(candidate);
    usedHosts.add(candidate.hostKey);
    zoneLevel.set(candidate.zone, (zoneLevel.get(candidate.zone) ?? 0) + 1);
  };
  const allowedZone = (zone: string) =>
    request.zoneSpread === 'preferred' || (zoneLevel.get(zone) ?? 0) === 0;

  // Data locality is a tie-break, never a cost in spread: the local host gets a replica when its
  // zone is among the emptiest ones at some step.
  let locals: Candidate[] =
    request.preferHost === undefined
      ? []
      : [...bestByHost.values()].filter(
          (c) => labelValue(c.node.labels, 'host') === request.preferHost,
        );

  while (chosen.length < request.count) {
    // Water-filling: the zone with the fewest replicas that still has an unused host; among
    // those, the best host.
    let pick: Candidate | undefined;
    let pickLevel = Infinity;
    for (const [zone, hosts] of hostsByZone) {
      if (!allowedZone(zone)) continue;
      let i = nextInZone.get(zone) ?? 0;
      while (i < hosts.length && usedHosts.has(hosts[i]!.hostKey)) i++;
      nextInZone.set(zone, i);
      const head = hosts[i];
      if (!head) continue;
      const level = zoneLevel.get(zone) ?? 0;
      if (level < pickLevel || (level === pickLevel && better(head, pick!))) {
        pick = head;
        pickLevel = level;
      }
    }
    if (!pick) break;
    let local: Candidate | undefined;
    for (const candidate of locals) {
      if (usedHosts.has(candidate.hostKey) || !allowedZone(candidate.zone)) continue;
      if ((zoneLevel.get(candidate.zone) ?? 0) !== pickLevel) continue;
      if (!local || better(candidate, local)) local = candidate;
    }
    if (local) pick = local;
    // One local replica is what locality asks for.
    if (labelValue(pick.node.labels, 'host') === request.preferHost) locals = [];
    take(pick);
  }

  if (chosen.length === request.count) return { ok: true, nodeIds: chosen.map((c) => c.node.id) };
  return {
    ok: false,
    missing: request.count - chosen.length,
    reason: explain({
      request,
      existingZones,
      nodesByZone,
      hostsByZone,
      refusedBy,
      roomDetails,
      considered,
    }),
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function listSome(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

interface Shortfall {
  request: PlacementRequest;
  existingZones: ReadonlySet<string>;
  /** Eligible nodes on hosts the volume does not use yet, per zone. */
  nodesByZone: ReadonlyMap<string, number>;
  hostsByZone: ReadonlyMap<string, readonly Candidate[]>;
  refusedBy: Record<IneligibleReason, string[]>;
  roomDetails: string[];
  considered: number;
}

/** Says why placement fell short: what was needed, what exists, and what was excluded and why. */
function explain(s: Shortfall): string {
  const { request } = s;
  const existing = request.existingNodeIds?.length ?? 0;
  const what =
    existing > 0
      ? `${request.count} more replica(s) beside the ${existing} existing`
      : `${request.count} replica(s)`;
  if (s.considered === 0) return `need ${what}, but no storage node is available`;
  let text: string;
  if (request.zoneSpread === 'required') {
    const zones = [...s.nodesByZone.keys()].filter((z) => !s.existingZones.has(z)).sort(compare);
    const others =
      s.existingZones.size > 0
        ? ` other than ${[...s.existingZones].sort(compare).map(describeZone).join(', ')}`
        : '';
    const list = zones.map((z) => `${describeZone(z)}: ${plural(s.nodesByZone.get(z)!, 'node')}`);
    text =
      `need ${what} in distinct zones${others}, only ${plural(zones.length, 'zone')} ` +
      `${zones.length === 1 ? 'has' : 'have'} a node with room${list.length > 0 ? ` (${list.join(', ')})` : ''}`;
  } else {
    const zones = [...s.hostsByZone.keys()].sort(compare);
    const hosts = zones.reduce((n, z) => n + s.hostsByZone.get(z)!.length, 0);
    const list = zones.map(
      (z) => `${describeZone(z)}: ${plural(s.hostsByZone.get(z)!.length, 'host')}`,
    );
    text =
      `need ${what} on distinct hosts, only ${plural(hosts, 'host')} ` +
      `${hosts === 1 ? 'has' : 'have'} a node with room${list.length > 0 ? ` (${list.join(', ')})` : ''}`;
  }
  const excluded: string[] = [];
  if (s.refusedBy.state.length > 0) {
    excluded.push(`${s.refusedBy.state.length} not up: ${listSome(s.refusedBy.state)}`);
  }
  if (s.refusedBy.selector.length > 0) {
    excluded.push(
      `${s.refusedBy.selector.length} not matching ${describeSelector(request.nodeSelector)}: ${listSome(s.refusedBy.selector)}`,
    );
  }
  if (s.refusedBy.room.length > 0) {
    excluded.push(
      `${s.refusedBy.room.length} without room for ${formatSize(request.sizeBytes)}: ${listSome(s.roomDetails)}`,
    );
  }
  return excluded.length > 0 ? `${text}; excluded ${excluded.join('; ')}` : text;
}

/**
 * A node for a replacement replica of an existing volume (its replica on `lostNodeId` is lost or
 * being moved away). The remaining replicas keep their zones and hosts; the new one follows the
 * volume's spread rule relative to them, so a repair never weakens the spread.
 */
export function placeReplacement(
  map: ClusterMapReader,
  volume: VolumeRecord,
  lostNodeId: string,
): PlacementDecision {
  const remaining = volume.replicas.map((r) => r.nodeId).filter((id) => id !== lostNodeId);
  return placeReplicas(map, {
    count: 1,
    sizeBytes: volume.sizeBytes,
    nodeSelector: volume.constraints.nodeSelector,
    zoneSpread: volume.constraints.zoneSpread,
    existingNodeIds: remaining,
    excludeNodeIds: [lostNodeId],
  });
}

/**
 * Why `nodeId` cannot hold a new replica of `volume` next to the replicas on `peers`, or null
 * when it can: the checks addReplica applies (eligibility, distinct hosts, distinct zones when
 * required), so a planner can skip a command the map would refuse.
 */
export function replicaRefusal(
  map: ClusterMapReader,
  volume: Pick<VolumeRecord, 'sizeBytes' | 'constraints'>,
  nodeId: string,
  peers: readonly string[],
): string | null {
  const node = map.getNode(nodeId);
  if (!node) return `node ${nodeId} does not exist`;
  const why = replicaIneligibility(
    node,
    map.provisionedBytes(nodeId),
    volume.sizeBytes,
    volume.constraints.nodeSelector,
    map.settings,
  );
  if (why) return why.detail;
  for (const peerId of peers) {
    const peer = map.getNode(peerId);
    if (!peer || peerId === nodeId) continue;
    if (hostKeyOf(peer) === hostKeyOf(node)) return `same host as ${peerId}`;
    if (volume.constraints.zoneSpread === 'required' && zoneOf(peer) === zoneOf(node)) {
      return `same zone as ${peerId}`;
    }
  }
  return null;
}
