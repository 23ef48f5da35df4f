import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { BallastError } from '@ballast/common';
import type { BackupTarget, ListPage, ObjectInfo } from './target.js';

const TEMP_PREFIX = '.tmp-';

/**
 * A repository in a directory of a local (or mounted) filesystem. A put writes a temp file next
 * to the final name, fsyncs it, renames it into place and fsyncs the directory, so a reader (or a
 * crash) sees the old state or the whole new object, never part of one. Temp files left by a
 * crash start with ".tmp-", are never listed and are removed by `removeTempFiles()`.
 */
export class DirectoryTarget implements BackupTarget {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = root;
    this.description = `dir:${root}`;
  }

  #path(key: string): string {
    if (
      key.length === 0 ||
      key.startsWith('/') ||
      key.split('/').some((p) => p === '' || p === '.' || p === '..' || p.startsWith(TEMP_PREFIX))
    ) {
      throw new BallastError('INVALID_ARGUMENT', `invalid object key ${JSON.stringify(key)}`);
    }
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Buffer | Readable, opts?: { signal?: AbortSignal }): Promise<void> {
    const path = this.#path(key);
    const dir = dirname(path);
    const created = await mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw ioError(`cannot create ${dir}`, err);
    });
    const tmp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      const fh = await open(tmp, 'wx');
      try {
        if (Buffer.isBuffer(body)) {
          await fh.writeFile(body);
        } else {
          for await (const piece of body) {
            opts?.signal?.throwIfAborted();
            await fh.write(piece as Buffer);
          }
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      opts?.signal?.throwIfAborted();
      await rename(tmp, path);
      await syncDir(dir);
      // A directory mkdir created is itself an entry of its parent: make that entry durable too.
      if (created !== undefined) {
        for (let d = dir; d.length >= created.length && d !== this.root; d = dirname(d)) {
          await syncDir(dirname(d));
        }
      }
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      if (err instanceof BallastError || opts?.signal?.aborted) throw err;
      throw ioError(`cannot write ${key} in ${this.root}`, err);
    }
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Buffer> {
    const path = this.#path(key);
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new BallastError('NOT_FOUND', `no object ${key} in ${this.description}`, { key });
      }
      throw ioError(`cannot read ${key}`, err);
    }
    try {
      if (!range) return await fh.readFile();
      const buf = Buffer.alloc(range.length);
      let done = 0;
      while (done < range.length) {
        const { bytesRead } = await fh.read(buf, done, range.length - done, range.offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === range.length ? buf : buf.subarray(0, done);
    } catch (err) {
      throw ioError(`cannot read ${key}`, err);
    } finally {
      await fh.close();
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const st = await stat(this.#path(key));
      if (!st.isFile()) return undefined;
      return { key, sizeBytes: st.size, modifiedMs: st.mtimeMs };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(`cannot stat ${key}`, err);
    }
  }

  async listPage(prefix: string, next?: string, pageSize = 1000): Promise<ListPage> {
    // The directory part of the prefix narrows the walk; the rest filters names.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? this.root : join(this.root, ...prefix.slice(0, slash).split('/'));
    const keys: ObjectInfo[] = [];
    await this.#walk(base, prefix, keys);
    keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const from = next === undefined ? 0 : keys.findIndex((o) => o.key > next);
    const page = from < 0 ? [] : keys.slice(from, from + pageSize);
    const more = from >= 0 && from + pageSize < keys.length;
    return { objects: page, next: more ? page[page.length - 1]!.key : undefined };
  }

  async #walk(dir: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError(`cannot list ${dir}`, err);
    }
    for (const e of entries) {
      if (e.name.startsWith(TEMP_PREFIX)) continue;
      const path = join(dir, e.name);
      const key = relative(this.root, path).split(sep).join('/');
      if (e.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(`${key}/`))
          await this.#walk(path, prefix, out);
      } else if (e.isFile() && key.startsWith(prefix)) {
        const st = await stat(path).catch(() => undefined);
        if (st) out.push({ key, sizeBytes: st.size, modifiedMs: st.mtimeMs });
      }
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.#path(key);
    try {
      await unlink(path);
      await syncDir(dirname(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError(`cannot delete ${key}`, err);
    }
  }

  async validate(): Promise<void> {
    const key = `probe/${randomBytes(8).toString('hex')}`;
    const data = randomBytes(64);
    await this.put(key, data);
    const back = await this.get(key);
    await this.delete(key);
    if (!back.equals(data)) {
      throw new BallastError('IO', `${this.description} returned other bytes than it was given`);
    }
  }

  /** Removes temp files a crashed put left behind; returns how many. */
  async removeTempFiles(dir = this.root): Promise<number> {
    let n = 0;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return 0;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.name.startsWith(TEMP_PREFIX)) {
        await rm(path, { force: true });
        n++;
      } else if (e.isDirectory()) {
        n += await this.removeTempFiles(path);
      }
    }
    return n;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function ioError(message: string, err: unknown): BallastError {
  const code = (err as NodeJS.ErrnoException)?.code;
  return new BallastError(
    'IO',
    `${message}: ${err instanceof Error ? err.message : String(err)}`,
    { errno: code },
    err,
  );
}
