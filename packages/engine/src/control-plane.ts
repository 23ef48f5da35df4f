/** A replica that failed and must leave the in-sync set before the engine acknowledges. */
export interface OutOfSyncRequest {
  volumeId: string;
  /** The REST API addresses volumes by name. */
  volumeName: string;
  nodeId: string;
  /** The engine's attachment epoch: meta refuses (FENCED) one that no longer holds the volume. */
  epoch: number;
  /**
   * The incarnation of the replica that failed (D17): if the map holds another one on that node
   * (it left and came back), the failed one is out already and meta changes nothing.
   */
  incarnation: number;
  reason: string;
}

export interface PromoteRequest {
  volumeId: string;
  volumeName: string;
  nodeId: string;
  epoch: number;
  /** The incarnation the rebuild copied to: meta refuses (CONFLICT) if the map holds another. */
  incarnation: number;
}

/**
 * What the engine needs from the metadata service: the port the engine owns (meta's
 * DirectControlPlane in process and @ballast/meta-client's MetaControlPlane over REST implement
 * it; the engine imports neither). Every method resolves only once the change
 * is committed through the log, and rejects with a BallastError whose code says why:
 * FENCED (the epoch no longer holds the volume), CONFLICT (the last in-sync replica), NOT_FOUND,
 * UNAVAILABLE/TIMEOUT (unknown outcome). Both calls are idempotent, so implementations retry
 * after a lost answer.
 */
export interface ControlPlane {
  markOutOfSync(request: OutOfSyncRequest): Promise<void>;
  /** Rebuilding -> in-sync, proposed by the engine once the replica has caught up. */
  promoteReplica(request: PromoteRequest): Promise<void>;
}
