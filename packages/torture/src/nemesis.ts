import { writeFileSync } from 'node:fs';
import type { NetLab } from '@ballast/testkit';
import { between, pick, type Rng } from './rng.js';
import type { Supervisor } from './supervisor.js';

/**
 * The nemeses: the faults a torture run injects, each with how it is applied and healed, and
 * which parts of the cluster it takes away (so the scheduler never takes away more than a
 * volume can lose at once; a fault that would only make a volume unavailable teaches nothing
 * about durability).
 */
export type FaultKind =
  | 'kill'
  | 'pause'
  | 'partition'
  | 'partition-one-way'
  | 'isolate'
  | 'lossy'
  | 'slow'
  | 'clock-jump'
  | 'disk-full'
  | 'io-errors'
  | 'power-cut'
  | 'agent-crash';

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill',
  'pause',
  'partition',
  'partition-one-way',
  'isolate',
  'lossy',
  'slow',
  'clock-jump',
  'disk-full',
  'io-errors',
  'power-cut',
  'agent-crash',
];

/** What the nemeses act on. */
export interface NemesisWorld {
  supervisor: Supervisor;
  lab: NetLab;
  /** Storage node ids (the agent's embedded node counts: it is `agent` in the lab). */
  nodes: readonly string[];
  metas: readonly string[];
  agent: string;
  /** The node whose data directory is on the power-cut / I/O-error disk, and its disk. */
  faultDisk?: {
    node: string;
    powerCut(seed: number, keepFraction: number): Promise<void>;
    failAll(): Promise<void>;
    clear(): Promise<void>;
  };
  /** The node whose data directory is on a small disk that can be filled. */
  fullDisk?: { node: string; fill(): Promise<void>; unfill(): Promise<void> };
  /** Meta member id -> its faketime offset file. */
  clocks: ReadonlyMap<string, string>;
}

export interface FaultPlan {
  kind: FaultKind;
  targets: string[];
  /** How long the fault holds before it is healed. */
  holdMs: number;
  detail: string;
  /** Storage processes the fault takes from the engine's view (at most one at a time). */
  storage: string[];
  /** Meta members it takes away (at most a minority at a time). */
  meta: string[];
}

export interface AppliedFault {
  heal(): Promise<void>;
}

/** Lab host of a process: processes are lab hosts by id. */
function host(id: string): string {
  return id;
}

/** Every process that serves storage: nodes and the agent (its embedded node, its engine). */
export function planFault(
  rng: Rng,
  world: NemesisWorld,
  kind: FaultKind,
  holdRange: [number, number],
): FaultPlan | null {
  const holdMs = between(rng, holdRange[0], holdRange[1]);
  const all = [...world.metas, ...world.nodes, world.agent];
  const storageOf = (id: string): string[] =>
    world.nodes.includes(id) || id === world.agent ? [id] : [];
  const metaOf = (id: string): string[] => (world.metas.includes(id) ? [id] : []);
  switch (kind) {
    case 'kill':
    case 'pause': {
      const target = pick(rng, [...world.metas, ...world.nodes]);
      return {
        kind,
        targets: [target],
        holdMs,
        detail: kind === 'kill' ? 'SIGKILL, restarted after the hold' : 'SIGSTOP, then SIGCONT',
        storage: storageOf(target),
        meta: metaOf(target),
      };
    }
    case 'partition':
    case 'partition-one-way': {
      const a = pick(rng, all);
      const b = pick(
        rng,
        all.filter((x) => x !== a),
      );
      // A cut between the agent and a node takes that node from the engine; between two
      // nodes it only hinders their rebuilds; a meta member cut from its peers or from an
      // agent or node may lose its say in the log.
      const storage =
        a === world.agent ? storageOf(b) : b === world.agent ? storageOf(a) : ([] as string[]);
      const meta = [...metaOf(a), ...metaOf(b)].slice(0, 1);
      return {
        kind,
        targets: [a, b],
        holdMs,
        detail: kind === 'partition' ? `${a} <-> ${b}` : `${a} -> ${b} dropped`,
        storage,
        meta,
      };
    }
    case 'isolate': {
      const target = pick(rng, all);
      return {
        kind,
        targets: [target],
        holdMs,
        detail: `${target} cut from every other process`,
        storage: storageOf(target),
        meta: metaOf(target),
      };
    }
    case 'lossy': {
      const target = pick(rng, all);
      const percent = between(rng, 5, 30);
      return {
        kind,
        targets: [target],
        holdMs,
        detail: `${percent}% of packets dropped`,
        storage: storageOf(target),
        meta: metaOf(target),
      };
    }
    case 'slow': {
      const target = pick(rng, all);
      const kbit = pick(rng, [512, 2048, 8192]);
      return {
        kind,
        targets: [target],
        holdMs,
        detail: `${kbit} kbit/s`,
        storage: storageOf(target),
        meta: metaOf(target),
      };
    }
    case 'clock-jump': {
      const target = pick(rng, world.metas);
      const seconds = pick(rng, [-1, 1]) * between(rng, 5, 600);
      return {
        kind,
        targets: [target],
        holdMs,
        detail: `wall clock ${seconds > 0 ? '+' : ''}${seconds}s`,
        storage: [],
        meta: [],
      };
    }
    case 'disk-full':
      if (world.fullDisk === undefined) return null;
      return {
        kind,
        targets: [world.fullDisk.node],
        holdMs,
        detail: 'data filesystem filled',
        storage: [world.fullDisk.node],
        meta: [],
      };
    case 'io-errors':
      if (world.faultDisk === undefined) return null;
      return {
        kind,
        targets: [world.faultDisk.node],
        holdMs,
        detail: 'every read and write of the data disk fails with EIO, then the node reboots',
        storage: [world.faultDisk.node],
        meta: [],
      };
    case 'power-cut': {
      if (world.faultDisk === undefined) return null;
      const keep = pick(rng, [0, 0, 0.5, 1]);
      return {
        kind,
        targets: [world.faultDisk.node],
        holdMs: Math.min(holdMs, 2_000),
        detail: `power cut: unflushed writes lost (kept ${keep * 100}%)`,
        storage: [world.faultDisk.node],
        meta: [],
      };
    }
    case 'agent-crash':
      return {
        kind,
        targets: [world.agent],
        holdMs,
        detail: 'the agent (and its embedded node) SIGKILLed, restarted after the hold',
        storage: [world.agent],
        meta: [],
      };
  }
}

/** Applies a planned fault; the returned heal() undoes it (idempotent, never throws). */
export async function applyFault(
  world: NemesisWorld,
  plan: FaultPlan,
  rng: Rng,
): Promise<AppliedFault> {
  const { supervisor: sup, lab } = world;
  const [a, b] = plan.targets as [string, string | undefined];
  const once = (fn: () => Promise<void>): AppliedFault => {
    let healed: Promise<void> | null = null;
    return { heal: () => (healed ??= fn().catch(() => undefined)) };
  };
  switch (plan.kind) {
    case 'kill':
    case 'agent-crash':
      await sup.kill(a);
      return once(() => sup.start(a));
    case 'pause':
      sup.pause(a);
      return once(async () => sup.resume(a));
    case 'partition':
      await lab.partition(host(a), host(b!));
      return once(() => lab.heal(host(a), host(b!)));
    case 'partition-one-way':
      await lab.partition(host(a), host(b!), { oneWay: true });
      return once(() => lab.heal(host(a), host(b!)));
    case 'isolate': {
      await lab.isolate(host(a));
      const others = [...world.metas, ...world.nodes, world.agent].filter((x) => x !== a);
      return once(async () => {
        for (const o of others) await lab.heal(host(a), host(o));
      });
    }
    case 'lossy': {
      const percent = Number(/^(\d+)%/.exec(plan.detail)?.[1] ?? 10);
      await lab.lossy(host(a), percent / 100);
      return once(() => lab.lossy(host(a), 0));
    }
    case 'slow': {
      const kbit = Number(/^(\d+) kbit/.exec(plan.detail)?.[1] ?? 1024);
      await lab.slow(host(a), kbit);
      return once(() => lab.slow(host(a), 0));
    }
    case 'clock-jump': {
      const file = world.clocks.get(a);
      if (file === undefined) return once(async () => undefined);
      const seconds = Number(/([+-]?\d+)s$/.exec(plan.detail)?.[1] ?? 0);
      writeFileSync(file, `${seconds >= 0 ? '+' : ''}${seconds}s\n`);
      // Stepped back by NTP later: the wall clock returns to true time (another jump).
      return once(async () => writeFileSync(file, '+0s\n'));
    }
    case 'disk-full':
      await world.fullDisk!.fill();
      return once(() => world.fullDisk!.unfill());
    case 'io-errors': {
      const disk = world.faultDisk!;
      await disk.failAll();
      return once(async () => {
        // A host whose disk failed is rebooted: the node stops, the disk is checked and
        // mounted again, the node starts over what the disk holds.
        await sup.kill(a);
        await disk.clear();
        await disk.powerCut(Math.floor(rng() * 2 ** 31), 1);
        await sup.start(a);
      });
    }
    case 'power-cut': {
      const disk = world.faultDisk!;
      const keep = Number(/kept (\d+)%/.exec(plan.detail)?.[1] ?? 0) / 100;
      await sup.kill(a);
      await disk.powerCut(Math.floor(rng() * 2 ** 31), keep);
      return once(() => sup.start(a));
    }
  }
}
