/**
 * Serialises async work per key (one volume's mount, unmount and recovery never interleave).
 * Waiters form a promise chain; the map entry goes away when the chain drains, so the map holds
 * only keys with work queued.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with work running or queued (for tests and shutdown). */
  get busyKeys(): number {
    return this.tails.size;
  }
}
