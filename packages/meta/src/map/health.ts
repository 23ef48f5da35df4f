import { isLive } from './eligibility.js';
import { MAX_REASON_LENGTH } from './limits.js';
import type { NodeRecord, VolumeRecord, VolumeState } from './schemas.js';

export interface VolumeHealth {
  state: VolumeState;
  stateReason: string;
}

function clip(text: string): string {
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 3)}...`;
}

/**
 * A volume's state, with a sentence saying why, from its replica set and the states of the nodes
 * holding it. Users of peers' products ask most often why a volume is degraded or stuck; the map
 * answers that itself instead of leaving it to be reconstructed from logs.
 *
 * - healthy: at least the desired number of in-sync replicas on live nodes
 * - degraded: fewer, but at least one
 * - faulted: no in-sync replica on a live node (I/O cannot be served)
 */
export function volumeHealth(
  volume: Pick<VolumeRecord, 'replicas' | 'staleReplicas' | 'desiredReplicas' | 'seed' | 'source'>,
  nodeById: (id: string) => NodeRecord | undefined,
): VolumeHealth {
  let liveInSync = 0;
  const notes: string[] = [];
  for (const replica of volume.replicas) {
    const node = nodeById(replica.nodeId);
    const live = node !== undefined && isLive(node);
    if (replica.role === 'rebuilding') {
      notes.push(
        `${replica.nodeId} rebuilding${live ? '' : ` on a ${node?.state ?? 'missing'} node`}`,
      );
    } else if (live) {
      liveInSync++;
    } else {
      notes.push(
        `in-sync replica on ${replica.nodeId} unreachable: node is ${node?.state ?? 'missing'}`,
      );
    }
  }
  for (const stale of volume.staleReplicas) {
    notes.push(`${stale.nodeId} out of sync since epoch ${stale.epoch}: ${stale.reason}`);
  }
  const suffix = notes.length > 0 ? `; ${notes.join('; ')}` : '';
  const desired = volume.desiredReplicas;
  if (volume.seed && volume.source) {
    // Not faulted: nothing was lost, the clone is still being filled (D32).
    return {
      state: 'degraded',
      stateReason: clip(
        `a clone of ${volume.source.volume}@${volume.source.snapshot}: ${volume.seed.nodeId} copies the snapshot; usable once that copy is done${suffix}`,
      ),
    };
  }
  if (liveInSync === 0) {
    return { state: 'faulted', stateReason: clip(`no in-sync replica is reachable${suffix}`) };
  }
  if (liveInSync < desired) {
    return {
      state: 'degraded',
      stateReason: clip(`${liveInSync} of ${desired} replicas in-sync and reachable${suffix}`),
    };
  }
  return {
    state: 'healthy',
    stateReason: clip(`${liveInSync} of ${desired} replicas in-sync${suffix}`),
  };
}
