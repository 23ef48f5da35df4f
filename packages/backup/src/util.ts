/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  const settled = await Promise.allSettled(workers);
  const bad = settled.find((s) => s.status === 'rejected');
  if (bad) throw (bad as PromiseRejectedResult).reason;
  return out;
}

/** Holds at most `limit` tasks in flight; `run` waits for room, `drain` for all of them. */
export class TaskWindow {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  #error: unknown;
  #failed = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Starts `task` once fewer than `limit` run; rethrows the first failure of any task. */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#limit) await Promise.race(this.#running);
    this.#check();
    const p: Promise<void> = task()
      .catch((err: unknown) => {
        if (!this.#failed) {
          this.#failed = true;
          this.#error = err;
        }
      })
      .finally(() => this.#running.delete(p));
    this.#running.add(p);
  }

  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running);
    this.#check();
  }

  /** Waits for running tasks without throwing (clean-up after a failure). */
  async settle(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running);
  }

  #check(): void {
    if (this.#failed) throw this.#error;
  }
}

export function hex(buf: Buffer): string {
  return buf.toString('hex');
}
