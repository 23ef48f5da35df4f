import { crc32c } from '@node-rs/crc32';

/** Checksum granularity: every 4 KiB block of a replica has its own CRC32C. */
export const BLOCK_SIZE_BYTES = 4096;

export const MIN_CHUNK_SIZE_BYTES = 64 * 1024;
export const MAX_CHUNK_SIZE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE_BYTES = 4 * 1024 * 1024;

/**
 * Largest replica: 1 PiB. Offsets stay far below 2^53, so plain numbers are exact, and the chunk
 * index (at most 2^34 with 64 KiB chunks) fits the 12 hex digits of the index keys.
 */
export const MAX_REPLICA_SIZE_BYTES = 2 ** 50;

/** Largest single read, write, trim or zero request (NBD clients send at most 32 MiB). */
export const MAX_IO_BYTES = 64 * 1024 * 1024;

/** Writes that may wait for a dirty mark per replica before new ones are refused. */
export const MAX_QUEUED_OPS_PER_REPLICA = 4096;

/** Rounds a queued write may retry its dirty mark (it loses the race with a flush). */
export const MAX_MARK_ATTEMPTS = 16;

/** Largest number of submissions the index writer folds into one LevelDB batch. */
export const MAX_SUBMISSIONS_PER_INDEX_BATCH = 1024;

/** Submissions the index writer holds before refusing more (a stuck disk must not grow memory). */
export const MAX_QUEUED_INDEX_SUBMISSIONS = 65536;

/** Flush latency samples kept until the metrics exporter takes them. */
export const FLUSH_LATENCY_SAMPLE_CAPACITY = 1024;

/** Recovery reads and rewrites dirty chunks in groups of this many. */
export const RECOVERY_GROUP_CHUNKS = 32;

/** Scrub verifies at most this many bytes per synchronous step (bounds event-loop stalls). */
export const SCRUB_STEP_BYTES = 1024 * 1024;

/** Rough in-memory cost of one chunk's metadata apart from its checksum array. */
export const META_OVERHEAD_BYTES = 96;

export const DEFAULT_METADATA_CACHE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_DIRTY_METADATA_BYTES = 64 * 1024 * 1024;

const zeroBlock = Buffer.alloc(BLOCK_SIZE_BYTES);
/** CRC32C of a block of zeroes: what holes and never-written blocks must match. */
export const ZERO_BLOCK_CRC = crc32c(zeroBlock);
