import { BallastError, type BlockDevice } from '@ballast/common';

/**
 * What the agent needs from wherever volumes live. The agent (plugin server, mount manager) only
 * talks to this interface; `LocalFileBackend` implements it on one host for tests and dev mode,
 * and the cluster backend (meta + replicating engine) implements it for real deployments.
 *
 * Errors are BallastErrors with stable codes:
 *  - NOT_FOUND: no volume of that name;
 *  - CONFLICT: the name exists with other options, or the volume is attached to another host
 *    (`details.host` names the holder), or it cannot be removed while attached;
 *  - INVALID_ARGUMENT: a spec the backend cannot honour (size, replicas, placement).
 */
export interface VolumeBackend {
  /** Short name for logs and status ("local-file", "cluster"). */
  readonly kind: string;
  /**
   * Creates a volume. Idempotent: the same name with an equal spec returns the existing volume;
   * the same name with a different spec is a CONFLICT.
   */
  create(name: string, spec: VolumeSpec): Promise<VolumeInfo>;
  /** Deletes a volume and its data. CONFLICT while attached, NOT_FOUND when unknown. */
  remove(name: string): Promise<void>;
  get(name: string, options?: LookupOptions): Promise<VolumeInfo>;
  list(options?: LookupOptions): Promise<VolumeInfo[]>;
  /**
   * Makes the volume writable from `host` and serves it as an NBD export on a unix socket.
   * One writer: CONFLICT (naming the holder) when another host holds it, unless `force`, which
   * takes it over (the cluster backend fences the old holder by bumping the volume's epoch).
   * Attaching again from the host that already holds it (an agent restarting) succeeds.
   */
  attach(name: string, options: AttachOptions): Promise<VolumeAttachment>;
  /**
   * Ends an attachment in the backend's books that this process does not serve: this host's,
   * left behind by an agent that died, or, with `force`, another host's (a host known to be dead;
   * the cluster backend fences it with a new epoch). CONFLICT when another host holds it and
   * `force` is not set (naming the holder), or when this process serves it (use the
   * attachment's release() instead). A volume that is not attached is left as it is.
   */
  detach(name: string, options: DetachOptions): Promise<DetachResult>;
  /**
   * A read-only device over a snapshot of the volume (`ballast snapshot attach`), read from a
   * node that holds it. Backends without snapshots leave it out. Nothing is attached: the
   * volume itself stays wherever it is.
   */
  openSnapshot?(name: string, snapshot: string): Promise<SnapshotDevice>;
  /**
   * Stops serving every export of this process without detaching: attachments stay recorded,
   * so an agent that restarts attaches again and keeps its mounts (see MountManager.recover).
   */
  close(): Promise<void>;
}

/**
 * How a lookup may answer. Docker's lookups (Get, List, Path) ask with `fast`: dockerd makes them
 * for every volume it knows at start, for `docker volume ls|inspect`, and for every unknown name
 * (`docker run -v name:/x` probes all drivers), so they must not wait on a source of truth that
 * does not answer. A backend that cannot reach it within about a second answers from its last
 * known state (marked as such in `status`) or fails at once with UNAVAILABLE. Lookups that decide
 * something (create, mount, remove) never ask with `fast`.
 */
export interface LookupOptions {
  fast?: boolean;
}

export type FilesystemType = 'ext4' | 'xfs';

/** A volume as the user asked for it (normalised; see parseVolumeOptions). */
export interface VolumeSpec {
  sizeBytes: number;
  /** Desired replica count, 1 to 5. */
  replicas: number;
  fs: FilesystemType;
  /** Chunk size for the replicas; undefined means the backend's default. */
  chunkSizeBytes?: number | undefined;
  /** Zone to place replicas in; undefined spreads over zones. */
  zone?: string | undefined;
  /** Node labels every replica's node must carry. */
  labels: Record<string, string>;
  /** How long writes wait for a silent replica before it is dropped; undefined: the default. */
  replicaTimeoutMs?: number | undefined;
  /** A clone of this snapshot (`VOLUME@SNAPSHOT`); its size and fs default to the snapshot's. */
  fromSnapshot?: string | undefined;
  /** Whether size and fs were given (a clone takes the snapshot's otherwise). */
  sizeGiven?: boolean;
  fsGiven?: boolean;
}

export interface VolumeInfo {
  name: string;
  spec: VolumeSpec;
  /** RFC 3339. */
  createdAt: string;
  /** The host holding the volume, if any. */
  attachment?: { host: string; since: string } | undefined;
  /** Backend-specific state for humans (replica set, health); shown in `docker volume inspect`. */
  status?: Record<string, unknown> | undefined;
}

export interface AttachOptions {
  /** The attaching host (the agent id). */
  host: string;
  force?: boolean;
  /** Where this host mounts the volume's filesystem (recorded with the attachment, for `volume ls`). */
  mountPath?: string;
  /**
   * When another host holds the volume and meta presumes that host dead (its agent silent past
   * the host timeout), take the volume over as `force` would (fencing the old holder). Docker
   * mounts ask for this: `docker run` on a surviving host has no --force.
   */
  takeOverFromDeadHolder?: boolean;
}

export interface DetachOptions {
  /** The host asking (the agent id). */
  host: string;
  force?: boolean;
}

export interface DetachResult {
  /** Who held the volume before; undefined when it was not attached. */
  previousHost?: string | undefined;
  /** The volume's epoch afterwards (cluster backend); a forced detach takes a new one. */
  epoch?: number | undefined;
}

/** A read-only view of one snapshot (see `VolumeBackend.openSnapshot`). */
export interface SnapshotDevice {
  readonly device: BlockDevice;
  readonly sizeBytes: number;
  /** The node the reads go to first. */
  readonly from: string;
}

export interface VolumeAttachment {
  /** A unix socket serving the volume over NBD (fixed newstyle). */
  readonly exportSocketPath: string;
  /** The export name to ask for on that socket. */
  readonly exportName: string;
  readonly sizeBytes: number;
  readonly fs: FilesystemType;
  /** The attachment epoch (cluster backend): every earlier writer is fenced. */
  readonly epoch?: number | undefined;
  /**
   * The device behind the export, for serving it on another listener too (the agent's TCP
   * export). It is only valid until release(): remove every other export of it before that.
   */
  readonly device?: BlockDevice | undefined;
  /**
   * True once a newer attachment (another host, with force) has fenced this one: nothing it
   * writes reaches the replicas any more. Absent for backends without epochs.
   */
  readonly fenced?: (() => boolean) | undefined;
  /** Flushes, stops serving and detaches (the volume can then be attached elsewhere). Idempotent. */
  release(): Promise<void>;
}

export function specsEqual(a: VolumeSpec, b: VolumeSpec): boolean {
  return (
    a.sizeBytes === b.sizeBytes &&
    a.replicas === b.replicas &&
    a.fs === b.fs &&
    (a.chunkSizeBytes ?? null) === (b.chunkSizeBytes ?? null) &&
    (a.zone ?? null) === (b.zone ?? null) &&
    (a.replicaTimeoutMs ?? null) === (b.replicaTimeoutMs ?? null) &&
    JSON.stringify(sortedEntries(a.labels)) === JSON.stringify(sortedEntries(b.labels))
  );
}

function sortedEntries(labels: Record<string, string>): Array<[string, string]> {
  return Object.entries(labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

/**
 * Volume names become file and directory names (mount point, socket, image), so they are
 * restricted to what Docker's own local driver accepts, and bounded.
 */
export const VOLUME_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function checkVolumeName(name: unknown): string {
  if (typeof name !== 'string' || !VOLUME_NAME_PATTERN.test(name)) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `invalid volume name ${JSON.stringify(name)}: use 1 to 128 characters from ` +
        '[A-Za-z0-9_.-], starting with a letter or digit',
    );
  }
  return name;
}
