import type { Readable } from 'node:stream';

/** What a target knows about one stored object. */
export interface ObjectInfo {
  key: string;
  sizeBytes: number;
  /** The store's own clock (S3 LastModified, the file's mtime): collect compares locks by it. */
  modifiedMs: number;
}

export interface ListPage {
  objects: ObjectInfo[];
  /** Pass back to get the next page; undefined on the last page. */
  next: string | undefined;
}

/**
 * Where a repository's objects live: a flat namespace of keys ("packs/ab/abcd...", "config").
 * Every put is atomic (no reader ever sees part of an object) and durable when it resolves;
 * objects are never modified in place, only written whole, read and deleted.
 */
export interface BackupTarget {
  /** A short description for messages, never with credentials ("dir:/backups", "s3://b/p @ http://..."). */
  readonly description: string;
  put(key: string, body: Buffer | Readable, opts?: { signal?: AbortSignal }): Promise<void>;
  /** The whole object, or `length` bytes from `offset`. NOT_FOUND when there is no such key. */
  get(key: string, range?: { offset: number; length: number }): Promise<Buffer>;
  /** undefined when there is no such key. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Keys starting with `prefix`, in key order, one page at a time. */
  listPage(prefix: string, next?: string, pageSize?: number): Promise<ListPage>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** A real round trip that proves the target is usable; throws a BallastError saying why not. */
  validate(): Promise<void>;
  /**
   * Removes what interrupted puts left that is not an object (S3: multipart uploads started
   * more than `olderThanMs` ago and never completed); returns how many. Optional.
   */
  abortIncompleteUploads?(olderThanMs: number): Promise<number>;
}

/** Every object under `prefix`, following pagination. */
export async function* listAll(
  target: BackupTarget,
  prefix: string,
  pageSize?: number,
): AsyncGenerator<ObjectInfo> {
  let next: string | undefined;
  do {
    const page = await target.listPage(prefix, next, pageSize);
    yield* page.objects;
    next = page.next;
  } while (next !== undefined);
}
