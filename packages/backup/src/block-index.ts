import type { BlobKind } from './format.js';

export interface Location {
  /** Pack number inside this index; `packId(n)` names it (undefined while the pack is being built). */
  pack: number;
  kind: BlobKind;
  offset: number;
  storedLength: number;
  rawLength: number;
}

const INITIAL_SLOTS = 1024;

/**
 * Blob hash -> where it is stored, for every blob of every indexed pack. Kept compact (one map
 * entry keyed by the 32 hash bytes as a one-byte string, the rest in typed arrays: about 90
 * bytes per blob) because a 4 GiB volume alone has a million blocks. The first location added
 * for a hash wins; a repository's indexes are loaded in pack-id order, so every process picks the
 * same one.
 */
export class BlockIndex {
  readonly #slots = new Map<string, number>();
  #pack = new Uint32Array(INITIAL_SLOTS);
  #offset = new Uint32Array(INITIAL_SLOTS);
  #stored = new Uint32Array(INITIAL_SLOTS);
  #raw = new Uint32Array(INITIAL_SLOTS);
  #kind = new Uint8Array(INITIAL_SLOTS);
  #used = 0;
  readonly #packIds: (string | undefined)[] = [];
  readonly #packNumbers = new Map<string, number>();

  get size(): number {
    return this.#slots.size;
  }

  /** A number for a pack; `id` may come later (`namePack`) for a pack still being written. */
  addPack(id?: string): number {
    if (id !== undefined) {
      const known = this.#packNumbers.get(id);
      if (known !== undefined) return known;
    }
    const n = this.#packIds.length;
    this.#packIds.push(id);
    if (id !== undefined) this.#packNumbers.set(id, n);
    return n;
  }

  namePack(n: number, id: string): void {
    this.#packIds[n] = id;
    this.#packNumbers.set(id, n);
  }

  packId(n: number): string | undefined {
    return this.#packIds[n];
  }

  packNumber(id: string): number | undefined {
    return this.#packNumbers.get(id);
  }

  /** Adds a location unless the hash already has one; returns whether it was added. */
  add(hash: Buffer, loc: Location): boolean {
    const key = hash.toString('latin1');
    if (this.#slots.has(key)) return false;
    if (this.#used === this.#pack.length) this.#grow();
    const s = this.#used++;
    this.#pack[s] = loc.pack;
    this.#offset[s] = loc.offset;
    this.#stored[s] = loc.storedLength;
    this.#raw[s] = loc.rawLength;
    this.#kind[s] = loc.kind;
    this.#slots.set(key, s);
    return true;
  }

  get(hash: Buffer): Location | undefined {
    const s = this.#slots.get(hash.toString('latin1'));
    if (s === undefined) return undefined;
    return {
      pack: this.#pack[s]!,
      kind: this.#kind[s]! as BlobKind,
      offset: this.#offset[s]!,
      storedLength: this.#stored[s]!,
      rawLength: this.#raw[s]!,
    };
  }

  has(hash: Buffer): boolean {
    return this.#slots.has(hash.toString('latin1'));
  }

  /** Forgets one hash (a blob found bad, or added for a pack whose upload failed). */
  delete(hash: Buffer): void {
    this.#slots.delete(hash.toString('latin1'));
  }

  /** Forgets every blob located in pack `n`. */
  deletePack(n: number): void {
    for (const [key, s] of this.#slots) if (this.#pack[s] === n) this.#slots.delete(key);
  }

  #grow(): void {
    const grow = <T extends Uint32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.#pack = grow(this.#pack);
    this.#offset = grow(this.#offset);
    this.#stored = grow(this.#stored);
    this.#raw = grow(this.#raw);
    this.#kind = grow(this.#kind);
  }
}
