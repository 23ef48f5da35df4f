/**
 * Bounds of the cluster map. Every collection and every field has one so that no command, however
 * it was produced, can make the map (and therefore every Raft snapshot) grow without limit.
 */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** Volume sizes are whole blocks: the NBD export and the chunk store both work in 4 KiB blocks. */
export const BLOCK_SIZE_BYTES = 4 * KiB;
export const MAX_VOLUME_SIZE_BYTES = 64 * TiB;
export const MIN_CHUNK_SIZE_BYTES = 64 * KiB;
export const MAX_CHUNK_SIZE_BYTES = 64 * MiB;
export const DEFAULT_CHUNK_SIZE_BYTES = 4 * MiB;

/** Desired replica count of a volume (peers offer 1..5; 0 replicas is not storage). */
export const MIN_REPLICAS = 1;
export const MAX_REPLICAS = 5;
/** A replica set may hold extra rebuilding members during a move or repair. */
export const MAX_REPLICA_SET_SIZE = MAX_REPLICAS + 3;
/** Replicas dropped from the set whose data a node keeps for a delta rebuild. */
export const MAX_STALE_REPLICAS = 8;

export const MAX_NODES = 4096;
export const MAX_VOLUMES = 100_000;
export const MAX_ACTIVE_TASKS = 10_000;
/** Finished tasks kept for the API and dashboards; the oldest are dropped first. */
export const MAX_FINISHED_TASKS = 1000;

export const MAX_LABELS = 32;
export const MAX_LABEL_KEY_LENGTH = 63;
export const MAX_LABEL_VALUE_LENGTH = 63;
export const MAX_REASON_LENGTH = 512;
/**
 * Bounds of a volume's replica timeout: how long its engine waits for a replica's answer before
 * it drops the replica (and how long writes stall when one is cut off).
 */
export const MIN_REPLICA_TIMEOUT_MS = 500;
export const MAX_REPLICA_TIMEOUT_MS = 300_000;
export const MAX_ADDRESS_LENGTH = 255;

/**
 * Replica usage figures in one heartbeat and in one reportReplicaUsage command. At most ~110
 * JSON bytes each (a 63-character id and a 16-digit number), 256 stay far below both the 64 KiB
 * command bound and the API's 64 KiB body limit. A node holding more sends them in turns.
 */
export const MAX_REPLICA_USAGE_REPORTS = 256;

/** Largest encoded command a store accepts into its log (JSON bytes). */
export const MAX_COMMAND_BYTES = 64 * KiB;

export const DEFAULT_OVER_PROVISION_PERCENT = 100;
export const MIN_OVER_PROVISION_PERCENT = 50;
export const MAX_OVER_PROVISION_PERCENT = 1000;

/** Control loops (see src/control/): their settings live in the map, changed through the API. */
export const DEFAULT_REPLICA_REPLACEMENT_GRACE_MS = 5 * 60_000;
/** A week: a node away longer than that is not coming back with useful data. */
export const MAX_REPLICA_REPLACEMENT_GRACE_MS = 7 * 24 * 3_600_000;
/** Per rebuild, node to node; 0 means unthrottled. */
export const DEFAULT_REBUILD_BANDWIDTH_BYTES_PER_SECOND = 200 * MiB;
export const MAX_REBUILD_BANDWIDTH_BYTES_PER_SECOND = 100 * GiB;
/** Replica moves (drain, rebalance) in flight at once, cluster-wide. */
export const DEFAULT_MAX_CONCURRENT_MOVES = 4;
export const MAX_CONCURRENT_MOVES = 256;
/** Rebalance stops when every node's used share is within this many points of the mean. */
export const DEFAULT_REBALANCE_MARGIN_PERCENT = 10;
export const MIN_REBALANCE_MARGIN_PERCENT = 1;
export const MAX_REBALANCE_MARGIN_PERCENT = 50;

/** Ids are never reused and addresses are never ids; this is the shape of every id. */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';
/** Docker's volume name rule, bounded. */
export const VOLUME_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';
export const LABEL_KEY_PATTERN = '^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$';
export const LABEL_VALUE_PATTERN = '^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$';
/** host:port, [v6]:port or name:port. */
export const ADDRESS_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+):[0-9]{1,5}$';
