import { createHash } from 'node:crypto';
import type { ClusterFile } from 'ballast';
import { DataPlaneClient } from '@ballast/dataplane';

/** sha256 per chunk of a node's replica of a volume (holes and zero chunks left out). */
export async function replicaDigest(
  file: ClusterFile,
  node: { id: string; address: string },
  volumeId: string,
): Promise<Map<number, string>> {
  const at = node.address.lastIndexOf(':');
  const client = await DataPlaneClient.connect({
    host: node.address.slice(0, at),
    port: Number(node.address.slice(at + 1)),
    clusterId: file.clusterId ?? '',
    clientId: 'torture-verifier',
    ...(file.dataPlaneSecret !== undefined
      ? { secret: file.dataPlaneSecret }
      : { insecureNoAuth: true }),
    expectedNodeId: node.id,
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
  });
  try {
    const map = await client.getChunkMap(volumeId);
    const out = new Map<number, string>();
    const zero = Buffer.alloc(map.chunkSizeBytes);
    for (const entry of map.chunks) {
      if (entry.hole) continue;
      const chunk = await client.readChunk(volumeId, entry.index);
      if (chunk.data === null || chunk.data.equals(zero.subarray(0, chunk.data.length))) continue;
      out.set(entry.index, createHash('sha256').update(chunk.data).digest('hex'));
    }
    return out;
  } finally {
    client.destroy();
  }
}

/** The chunks where two replicas differ (by index), or [] when they are identical. */
export function differingChunks(a: Map<number, string>, b: Map<number, string>): number[] {
  const out: number[] = [];
  for (const index of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(index) !== b.get(index)) out.push(index);
  }
  return out.sort((x, y) => x - y);
}
