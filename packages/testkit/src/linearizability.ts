/**
 * A linearizability checker in the style of Wing & Gong with Lowe's memoisation (as in Knossos'
 * "linear" search and Porcupine): given a concurrent history of operations with call and return
 * times, find a total order that respects real time and that a sequential model accepts.
 *
 * Histories are partitioned by key (P-compositionality: a history is linearizable iff each
 * per-key sub-history is), which keeps the search small. Operations whose outcome is unknown
 * (a timeout, a killed client) return at +infinity with `output: undefined`: they may take effect
 * at any point after their call, or never.
 */

import { createHash } from 'node:crypto';

export interface Operation<I, O> {
  /** Logical client; a client's operations never overlap in time. */
  clientId: number;
  input: I;
  /** undefined: outcome unknown (indeterminate); the op may or may not have happened. */
  output: O | undefined;
  /** Monotonic timestamps (any unit); `returnTime` Infinity for indeterminate ops. */
  callTime: number;
  returnTime: number;
}

export interface Model<S, I, O> {
  init(): S;
  /**
   * Applies `input` to `state`. With a known `output`, returns the next state if the model could
   * have produced that output, else undefined. With output undefined, returns the next state.
   */
  step(state: S, input: I, output: O | undefined): S | undefined;
  /** Canonical string of a state, for memoisation. */
  key(state: S): string;
  /** Splits a history into independent sub-histories (by key). Default: one partition. */
  partition?(history: Array<Operation<I, O>>): Array<Array<Operation<I, O>>>;
  describe?(input: I, output: O | undefined): string;
}

export type CheckResult =
  | { outcome: 'ok'; partitions: number }
  | { outcome: 'illegal'; partition: number; longestPrefix: string[]; ops: string[] }
  | { outcome: 'unknown'; reason: string };

interface Entry {
  opIndex: number;
  isCall: boolean;
  time: number;
  match: Entry | undefined; // call -> its return entry
  prev: Entry | undefined;
  next: Entry | undefined;
}

export interface CheckOptions {
  /** Upper bound on search steps per partition before giving up with `unknown`. */
  maxSteps?: number;
  /**
   * Upper bound on the memoised states per partition before giving up with `unknown` (memory:
   * about 100 bytes each; a JavaScript Set holds at most 2^24).
   */
  maxStates?: number;
}

export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: Array<Operation<I, O>>,
  options: CheckOptions = {},
): CheckResult {
  const parts = model.partition ? model.partition(history) : [history];
  for (let p = 0; p < parts.length; p++) {
    const r = checkPartition(
      model,
      parts[p]!,
      options.maxSteps ?? 5_000_000,
      Math.min(options.maxStates ?? 8_000_000, 16_000_000),
    );
    if (r === 'unknown') {
      return {
        outcome: 'unknown',
        reason: `partition ${p} (${parts[p]!.length} operations) exceeded the search budget`,
      };
    }
    if (r !== 'ok') {
      const describe = (i: number): string => {
        const op = parts[p]![i]!;
        const text = model.describe
          ? model.describe(op.input, op.output)
          : JSON.stringify({ in: op.input, out: op.output });
        return `client ${op.clientId} [${op.callTime}, ${op.returnTime}] ${text}`;
      };
      return {
        outcome: 'illegal',
        partition: p,
        longestPrefix: r.longest.map(describe),
        ops: parts[p]!.map((_, i) => describe(i)),
      };
    }
  }
  return { outcome: 'ok', partitions: parts.length };
}

function buildList<I, O>(ops: Array<Operation<I, O>>): Entry | undefined {
  const entries: Entry[] = [];
  ops.forEach((op, i) => {
    const ret: Entry = {
      opIndex: i,
      isCall: false,
      time: op.returnTime,
      match: undefined,
      prev: undefined,
      next: undefined,
    };
    const call: Entry = {
      opIndex: i,
      isCall: true,
      time: op.callTime,
      match: ret,
      prev: undefined,
      next: undefined,
    };
    entries.push(call, ret);
  });
  // Calls before returns at equal times: touching operations count as concurrent.
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Entry = {
    opIndex: -1,
    isCall: false,
    time: -Infinity,
    match: undefined,
    prev: undefined,
    next: undefined,
  };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  return head;
}

function lift(e: Entry): void {
  e.prev!.next = e.next;
  if (e.next) e.next.prev = e.prev;
  const m = e.match!;
  m.prev!.next = m.next;
  if (m.next) m.next.prev = m.prev;
}

function unlift(e: Entry): void {
  const m = e.match!;
  m.prev!.next = m;
  if (m.next) m.next.prev = m;
  e.prev!.next = e;
  if (e.next) e.next.prev = e;
}

function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: Array<Operation<I, O>>,
  maxSteps: number,
  maxStates: number,
): 'ok' | 'unknown' | { longest: number[] } {
  if (ops.length === 0) return 'ok';
  const head = buildList(ops)!;
  let linearized = 0n;
  const seen = new Set<string>();
  const stack: Array<{ entry: Entry; state: S }> = [];
  let state = model.init();
  let entry = head.next;
  let longest: number[] = [];
  let steps = 0;

  while (head.next) {
    if (++steps > maxSteps) return 'unknown';
    if (!entry) {
      // Walked off the end without finding a return: cannot happen for a well-formed list.
      throw new Error('linearizability: malformed history list');
    }
    if (entry.isCall) {
      const op = ops[entry.opIndex]!;
      const next = model.step(state, op.input, op.output);
      if (next !== undefined) {
        const bits = linearized | (1n << BigInt(entry.opIndex));
        // A digest, not the key itself: with thousands of operations in a partition the key
        // (the linearized set as a bit string, and the state) is hundreds of characters, and
        // millions of them filled the heap of a torture run (a CI failure at the end of a
        // run with many indeterminate operations). 128 bits make a collision negligible.
        const cacheKey = createHash('md5')
          .update(bits.toString(36))
          .update('|')
          .update(model.key(next))
          .digest('base64');
        if (!seen.has(cacheKey)) {
          if (seen.size >= maxStates) return 'unknown';
          seen.add(cacheKey);
          stack.push({ entry, state });
          state = next;
          linearized = bits;
          lift(entry);
          if (stack.length > longest.length) longest = stack.map((s) => s.entry.opIndex);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
    } else {
      // A return whose call is still in the list: the op must be linearized before this point.
      const top = stack.pop();
      if (!top) return { longest };
      state = top.state;
      linearized &= ~(1n << BigInt(top.entry.opIndex));
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return 'ok';
}

/** Partition helper: groups operations by a key function (e.g. the volume name). */
export function partitionBy<I, O>(keyOf: (input: I) => string) {
  return (history: Array<Operation<I, O>>): Array<Array<Operation<I, O>>> => {
    const groups = new Map<string, Array<Operation<I, O>>>();
    for (const op of history) {
      const k = keyOf(op.input);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(op);
    }
    return [...groups.values()];
  };
}

/**
 * Records a history from concurrent clients with one monotonic clock. `invoke` returns a function
 * to call with the output (or with nothing when the outcome is unknown, which makes the op return
 * at +infinity).
 */
export class HistoryRecorder<I, O> {
  readonly #ops: Array<Operation<I, O>> = [];
  readonly #origin = process.hrtime.bigint();

  #now(): number {
    return Number(process.hrtime.bigint() - this.#origin) / 1000;
  }

  invoke(clientId: number, input: I): { ok(output: O): void; unknown(): void } {
    const op: Operation<I, O> = {
      clientId,
      input,
      output: undefined,
      callTime: this.#now(),
      returnTime: Infinity,
    };
    this.#ops.push(op);
    return {
      ok: (output: O) => {
        op.output = output;
        op.returnTime = this.#now();
      },
      unknown: () => {
        op.output = undefined;
        op.returnTime = Infinity;
      },
    };
  }

  get history(): Array<Operation<I, O>> {
    return this.#ops;
  }
}
