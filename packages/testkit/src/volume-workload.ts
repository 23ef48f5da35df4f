// Concurrent REST clients creating, reading, attaching, detaching and deleting volumes against a
// real meta cluster, their history, and the per-volume-name model it is checked against (meta's
// process tests and the torture suite run it).
import {
  HistoryRecorder,
  checkLinearizable,
  partitionBy,
  type CheckResult,
  type Model,
  type Operation,
} from './linearizability.js';

/** How the workload reaches meta members: one REST call to the member named `target`. */
export interface MetaCaller {
  call(
    target: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }>;
}

export type VolumeOp =
  | { op: 'create'; name: string; sizeBytes: number }
  | { op: 'get'; name: string }
  | { op: 'attach'; name: string; host: string }
  | { op: 'detach'; name: string; host: string; epoch: number }
  | { op: 'delete'; name: string };

/** What the API answered, reduced to what the model needs. */
export type VolumeOutcome =
  | { kind: 'volume'; status: number; sizeBytes: number; epoch: number; holder: string | null }
  | { kind: 'deleted' }
  | { kind: 'refused'; code: string };

interface VolumeState {
  sizeBytes: number;
  epoch: number;
  holder: string | null;
}

type State = VolumeState | null;

function same(s: VolumeState, o: { sizeBytes: number; epoch: number; holder: string | null }) {
  return s.sizeBytes === o.sizeBytes && s.epoch === o.epoch && s.holder === o.holder;
}

/**
 * The map's rules for one volume name, as the API exposes them: create makes it (epoch 0,
 * detached) or returns the existing one; attach takes epoch + 1 unless another host holds it
 * (CONFLICT); detach by the holder with its epoch clears the holder, by anyone else or with a
 * stale epoch is FENCED, on a detached volume is a no-op; delete needs a detached volume.
 */
export const volumeModel: Model<State, VolumeOp, VolumeOutcome> = {
  init: () => null,
  key: (s) => JSON.stringify(s),
  partition: partitionBy((i: VolumeOp) => i.name),
  describe: (i, o) => `${JSON.stringify(i)} -> ${o === undefined ? '?' : JSON.stringify(o)}`,
  step(s, i, o) {
    switch (i.op) {
      case 'create': {
        const created: VolumeState = { sizeBytes: i.sizeBytes, epoch: 0, holder: null };
        if (o === undefined) return s ?? created;
        if (o.kind === 'refused') {
          // 422: no placement (only asked when the name is free); 409: another spec holds it.
          if (o.code === 'UNPROCESSABLE') return s === null ? s : undefined;
          if (o.code === 'CONFLICT')
            return s !== null && s.sizeBytes !== i.sizeBytes ? s : undefined;
          return undefined;
        }
        if (o.kind !== 'volume') return undefined;
        if (o.status === 201) return s === null && same(created, o) ? created : undefined;
        return s !== null && same(s, o) ? s : undefined;
      }
      case 'get':
        if (o === undefined) return s;
        if (o.kind === 'refused') return o.code === 'NOT_FOUND' && s === null ? s : undefined;
        return o.kind === 'volume' && s !== null && same(s, o) ? s : undefined;
      case 'attach': {
        const next =
          s !== null && (s.holder === null || s.holder === i.host)
            ? { ...s, epoch: s.epoch + 1, holder: i.host }
            : s;
        if (o === undefined) return next;
        if (o.kind === 'volume') return next !== s && same(next!, o) ? next : undefined;
        if (o.kind !== 'refused') return undefined;
        if (o.code === 'NOT_FOUND') return s === null ? s : undefined;
        if (o.code === 'CONFLICT') return next === s && s !== null ? s : undefined;
        return undefined;
      }
      case 'detach': {
        let next: State = s;
        let refusal: string | null = null;
        if (s === null) refusal = 'NOT_FOUND';
        else if (s.holder === null) next = s;
        else if (s.holder !== i.host || s.epoch !== i.epoch) refusal = 'FENCED';
        else next = { ...s, holder: null };
        if (o === undefined) return next;
        if (o.kind === 'volume') return refusal === null && same(next!, o) ? next : undefined;
        return o.kind === 'refused' && o.code === refusal ? s : undefined;
      }
      case 'delete': {
        let refusal: string | null = null;
        if (s === null) refusal = 'NOT_FOUND';
        else if (s.holder !== null) refusal = 'CONFLICT';
        if (o === undefined) return refusal === null ? null : s;
        if (o.kind === 'deleted') return refusal === null ? null : undefined;
        return o.kind === 'refused' && o.code === refusal ? s : undefined;
      }
    }
  },
};

/** A small seeded generator (mulberry32), so a failing schedule can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadStats {
  ok: number;
  refused: number;
  unknown: number;
  /** Why outcomes were unknown: HTTP status or the network error. */
  unknownCauses: Record<string, number>;
  /** Answers the model has no meaning for (a 400 on a valid request, a 500): always a bug. */
  unexpected: string[];
}

const HOSTS = ['host-a', 'host-b'];
const SIZES = [2 ** 30, 2 * 2 ** 30];
const KNOWN_REFUSALS = new Set(['NOT_FOUND', 'CONFLICT', 'FENCED', 'UNPROCESSABLE']);
const MAX_UNEXPECTED = 50;

/**
 * Runs `clients` concurrent loops until `stop()`; each picks a member (from `targets()`, which
 * the test changes as members come and go), a volume name from a shared pool and an operation.
 */
export class VolumeWorkload {
  readonly recorder = new HistoryRecorder<VolumeOp, VolumeOutcome>();
  readonly stats: WorkloadStats = {
    ok: 0,
    refused: 0,
    unknown: 0,
    unknownCauses: {},
    unexpected: [],
  };
  readonly #cluster: MetaCaller;
  readonly #targets: () => string[];
  readonly #names: string[];
  readonly #random: () => number;
  #stopped = false;
  /** History entries that cannot have had an effect (refused connection, unanswered read). */
  readonly #noEffect = new Set<number>();
  #loops: Promise<void>[] = [];
  /** Per client: the epoch it last saw per name (what a real agent would detach with). */
  readonly #seenEpochs: Array<Map<string, number>> = [];
  readonly #pauseMs: number;

  constructor(options: {
    cluster: MetaCaller;
    targets: () => string[];
    names: number;
    seed: number;
    prefix: string;
    /** A pause after each operation of a client (bounds the load and the history's size). */
    pauseMs?: number;
  }) {
    this.#pauseMs = options.pauseMs ?? 0;
    this.#cluster = options.cluster;
    this.#targets = options.targets;
    this.#names = Array.from({ length: options.names }, (_, i) => `${options.prefix}-${i}`);
    this.#random = seededRandom(options.seed);
  }

  get completed(): number {
    return this.stats.ok + this.stats.refused;
  }

  start(clients: number): void {
    for (let c = 0; c < clients; c++) {
      this.#seenEpochs.push(new Map());
      this.#loops.push(this.#loop(c));
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }

  #pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.#random() * xs.length)]!;
  }

  #nextOp(client: number): VolumeOp {
    const name = this.#pick(this.#names);
    const r = this.#random();
    if (r < 0.25) return { op: 'create', name, sizeBytes: this.#pick(SIZES) };
    if (r < 0.5) return { op: 'get', name };
    if (r < 0.7) return { op: 'attach', name, host: this.#pick(HOSTS) };
    if (r < 0.87) {
      return {
        op: 'detach',
        name,
        host: this.#pick(HOSTS),
        epoch: this.#seenEpochs[client]!.get(name) ?? 0,
      };
    }
    return { op: 'delete', name };
  }

  async #loop(client: number): Promise<void> {
    // Bounded: a loop that never stops would hang the test past its timeout instead of failing.
    for (let i = 0; i < 1_000_000 && !this.#stopped; i++) {
      const targets = this.#targets();
      if (targets.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const op = this.#nextOp(client);
      await this.runOne(client, this.#pick(targets), op);
      if (this.#pauseMs > 0) await new Promise((r) => setTimeout(r, this.#pauseMs));
    }
  }

  /** Runs one operation against one member and records it. */
  async runOne(client: number, target: string, op: VolumeOp): Promise<VolumeOutcome | undefined> {
    const call = this.recorder.invoke(client, op);
    const index = this.recorder.history.length - 1;
    const path = `/v1/volumes/${op.name}`;
    let answer;
    try {
      switch (op.op) {
        case 'create':
          answer = await this.#cluster.call(target, 'POST', '/v1/volumes', {
            name: op.name,
            size: `${op.sizeBytes / (1 << 30)}GiB`,
            replicas: 3,
          });
          break;
        case 'get':
          answer = await this.#cluster.call(target, 'GET', path);
          break;
        case 'attach':
          answer = await this.#cluster.call(target, 'POST', `${path}/attach`, { host: op.host });
          break;
        case 'detach':
          answer = await this.#cluster.call(target, 'POST', `${path}/detach`, {
            host: op.host,
            epoch: op.epoch,
          });
          break;
        case 'delete':
          answer = await this.#cluster.call(target, 'DELETE', path);
          break;
      }
    } catch (err) {
      // Timeout or connection error: the request may or may not have taken effect.
      call.unknown();
      this.stats.unknown++;
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      this.stats.unknownCauses[cause] = (this.stats.unknownCauses[cause] ?? 0) + 1;
      // Refused connections never carried the request; a read without an answer changed nothing.
      if (cause === 'ECONNREFUSED' || op.op === 'get') this.#noEffect.add(index);
      await new Promise((r) => setTimeout(r, 50)); // a dead member: do not spin on it
      return undefined;
    }
    const body = answer.body as {
      sizeBytes?: number;
      epoch?: number;
      attachment?: { host: string } | null;
      code?: string;
    };
    let outcome: VolumeOutcome | undefined;
    if (answer.status === 204) outcome = { kind: 'deleted' };
    else if (answer.status === 200 || answer.status === 201) {
      outcome = {
        kind: 'volume',
        status: op.op === 'create' ? answer.status : 200,
        sizeBytes: body.sizeBytes ?? -1,
        epoch: body.epoch ?? -1,
        holder: body.attachment?.host ?? null,
      };
      this.#seenEpochs[client]?.set(op.name, body.epoch ?? 0);
    } else if (answer.status >= 400 && answer.status < 500 && KNOWN_REFUSALS.has(body.code ?? '')) {
      outcome = { kind: 'refused', code: body.code! };
    }
    if (outcome) {
      call.ok(outcome);
      if (outcome.kind === 'refused') this.stats.refused++;
      else this.stats.ok++;
      return outcome;
    }
    // 503 (no leader), 504 (commit timeout), 429: outcome unknown. Anything else is a bug.
    call.unknown();
    this.stats.unknown++;
    const cause = `HTTP ${answer.status} ${body.code ?? ''}`;
    this.stats.unknownCauses[cause] = (this.stats.unknownCauses[cause] ?? 0) + 1;
    if (op.op === 'get') this.#noEffect.add(index);
    // No leader for a moment: back off rather than pile up operations of unknown outcome (each
    // one stays open forever in the history and widens the checker's search).
    await new Promise((r) => setTimeout(r, 100));
    if (![503, 504, 429].includes(answer.status) && this.stats.unexpected.length < MAX_UNEXPECTED) {
      this.stats.unexpected.push(
        `${target} ${JSON.stringify(op)} -> ${answer.status} ${JSON.stringify(answer.body)}`,
      );
    }
    return undefined;
  }

  /** Final reads of every name (through `target`), then the linearizability check. */
  async finish(target: string): Promise<CheckResult> {
    for (const name of this.#names) {
      let outcome: VolumeOutcome | undefined;
      for (let attempt = 0; attempt < 20 && outcome === undefined; attempt++) {
        outcome = await this.runOne(this.#seenEpochs.length, target, { op: 'get', name });
      }
    }
    // Calls with unknown outcomes (partitions, paused members) multiply the orders to try; the
    // default budget left a 10-minute torture run on a loaded machine undecided (sitting 9).
    return checkLinearizable(volumeModel, this.history(), { maxSteps: 50_000_000 });
  }

  /** The history to check: everything but the entries that cannot have had an effect. */
  history(): Array<Operation<VolumeOp, VolumeOutcome>> {
    return this.recorder.history.filter((_, i) => !this.#noEffect.has(i));
  }

  names(): string[] {
    return [...this.#names];
  }

  describeHistory(limit = 400): string {
    return this.history()
      .slice(-limit)
      .map(
        (h) =>
          `c${h.clientId} [${h.callTime.toFixed(0)}, ${h.returnTime}] ${volumeModel.describe!(h.input, h.output)}`,
      )
      .join('\n');
  }
}
