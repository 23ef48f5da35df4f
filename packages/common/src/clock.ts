import { performance } from 'node:perf_hooks';

/** A timer a Clock started; only the clock that made it can clear it. */
export interface ClockTimer {
  /** Does not keep the process alive (a no-op for a simulated clock). */
  unref(): void;
}

/**
 * Time as the data path sees it: durations from a monotonic clock, dates from the wall clock,
 * and timers. Injected under the engine and the chunk store so that a simulation can run them
 * on virtual time and replay a run exactly from its seed (`SimClock`); production passes
 * `systemClock`.
 */
export interface Clock {
  /** Monotonic milliseconds (fractional), for durations and deadlines. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch, for records shown to people. */
  wallMs(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
  setInterval(fn: () => void, ms: number): ClockTimer;
  clearInterval(timer: ClockTimer): void;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The process's own clocks and timers. */
export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};

class SimTimer implements ClockTimer {
  cancelled = false;
  /** When it fires next and its place among timers due at the same time. */
  atMs = 0;
  seq = 0;
  constructor(
    readonly fn: () => void,
    readonly everyMs: number | null,
  ) {}
  unref(): void {}
}

/** Resolves after every callback already queued for this turn of the event loop has run. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Virtual time for simulations: nothing happens until `run` fires the timers in order of time
 * (ties in order of creation), letting every promise chain a timer starts settle before the
 * next one fires. Code under test must take all its time from here and do no real I/O; then a
 * run is a function of its inputs and replays exactly (microtasks and immediates are ordered
 * deterministically by Node.js; only timers and I/O are not).
 */
export class SimClock implements Clock {
  private nowMs = 0;
  private seq = 0;
  private readonly queue: SimTimer[] = [];
  /** Timers fired so far. */
  fired = 0;

  constructor(private readonly epochWallMs = Date.UTC(2026, 0, 1)) {}

  monotonicMs(): number {
    return this.nowMs;
  }

  wallMs(): number {
    return this.epochWallMs + Math.floor(this.nowMs);
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.push(fn, ms, null);
  }

  clearTimeout(timer: ClockTimer): void {
    if (timer instanceof SimTimer) timer.cancelled = true;
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    return this.push(fn, ms, Math.max(1, ms));
  }

  clearInterval(timer: ClockTimer): void {
    this.clearTimeout(timer);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.queue.filter((timer) => !timer.cancelled).length;
  }

  /**
   * Fires timers in order until `promise` settles and returns its outcome. Throws when nothing
   * is left to fire while the promise is pending (a deadlock: no timer can ever settle it) or
   * when virtual time passes `limitMs` from now (a livelock: timers keep firing and nothing
   * settles it).
   */
  async run<T>(promise: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => {
      settled = true;
    });
    watched.catch(() => undefined);
    const deadline = this.nowMs + limitMs;
    await turn();
    while (!settled) {
      const next = this.pop();
      if (next === null) {
        throw new Error(`deadlock at ${this.nowMs} ms: nothing scheduled and the run not done`);
      }
      if (next.atMs > deadline) {
        throw new Error(`still not done after ${limitMs} ms of virtual time`);
      }
      this.fire(next);
      await turn();
    }
    return watched;
  }

  /** Fires every timer due within `ms` from now, then leaves the clock at now + ms. */
  async advance(ms: number): Promise<void> {
    const until = this.nowMs + ms;
    await turn();
    for (;;) {
      const next = this.peek();
      if (next === null || next.atMs > until) break;
      this.fire(this.pop()!);
      await turn();
    }
    this.nowMs = until;
  }

  private push(fn: () => void, ms: number, everyMs: number | null): SimTimer {
    const timer = new SimTimer(fn, everyMs);
    this.schedule(timer, ms);
    return timer;
  }

  private schedule(timer: SimTimer, ms: number): void {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    timer.atMs = this.nowMs + delay;
    timer.seq = this.seq++;
    // Binary search for the insertion point keeps the queue ordered by (time, creation).
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.queue[mid]!;
      if (other.atMs < timer.atMs || (other.atMs === timer.atMs && other.seq < timer.seq)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    this.queue.splice(lo, 0, timer);
  }

  private peek(): SimTimer | null {
    while (this.queue.length > 0 && this.queue[0]!.cancelled) this.queue.shift();
    return this.queue[0] ?? null;
  }

  private pop(): SimTimer | null {
    const next = this.peek();
    if (next !== null) this.queue.shift();
    return next;
  }

  private fire(timer: SimTimer): void {
    this.nowMs = Math.max(this.nowMs, timer.atMs);
    this.fired += 1;
    // An interval goes back in the queue as the same handle, so clearing it stops it.
    if (timer.everyMs !== null) this.schedule(timer, timer.everyMs);
    timer.fn();
  }
}
