import { performance } from 'node:perf_hooks';

/**
 * Wall-clock milliseconds that never jump: it advances with the monotonic clock and follows the
 * wall clock by slewing at most `maxSlew` (5%) of the elapsed time towards it, as NTP's adjtime
 * does. A wall clock stepped by minutes (a bad NTP sync, an operator's `date -s`) is absorbed
 * over time instead of making every measured silence jump: a leader whose clock stepped ahead
 * would otherwise presume every node and host dead at once, and one stepped back none.
 */
export class SteadyClock {
  #base: number;
  #lastMono: number;

  constructor(
    private readonly wall: () => number = Date.now,
    private readonly mono: () => number = () => performance.now(),
    private readonly maxSlew = 0.05,
  ) {
    this.#base = wall();
    this.#lastMono = mono();
  }

  now(): number {
    const m = this.mono();
    const elapsed = Math.max(0, m - this.#lastMono);
    this.#lastMono = m;
    const next = this.#base + elapsed;
    const error = this.wall() - next;
    const bound = elapsed * this.maxSlew;
    this.#base = next + Math.max(-bound, Math.min(bound, error));
    return Math.floor(this.#base);
  }
}
