import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { isAlive } from './managed-process.js';

/** One small JSON file per lab (creator pid, subnet), so `NetLab.removeStale` can find orphans. */
export const LAB_STATE_DIR = '/run/ballast-lab';
/** The interface every host sees in its namespace. */
export const LAB_INTERFACE = 'eth0';
/** The jump target in the switch namespace's filter table that holds every fault rule. */
const CHAIN = 'BALLAST-LAB';
const BRIDGE = 'br0';
const MAX_HOSTS = 60;
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
// No '-' in a prefix: everything named `${prefix}-...` then belongs to exactly one lab. At most
// 10 characters so that `${prefix}-root` and `${prefix}-p60` fit IFNAMSIZ (15).
const PREFIX = /^[a-z][a-z0-9]{1,9}$/;
const COMMAND_TIMEOUT_MS = 15_000;
const EXEC_TIMEOUT_MS = 30_000;
const DESTROY_WAIT_MS = 30_000;

export interface NetLabOptions {
  /** Host names (short ids like 'm1', 'n2', 'agent'), 1..60 of them; 'root' and 'switch' are reserved. */
  hosts: readonly string[];
  /**
   * Prefix of every namespace and interface this lab creates (`[a-z][a-z0-9]{1,9}`); default `bl`
   * + 4 random hex digits. Unique per lab, so two labs (two CI runs, a dev cluster and a test)
   * coexist; create() fails if the given one is taken.
   */
  prefix?: string;
  /**
   * The lab outlives this process (a dev cluster): no exit hook, and removeStale() leaves it
   * alone. Another process reaches it with `NetLab.open(prefix)`; destroy() there removes it.
   */
  persistent?: boolean;
}

export interface NetFaults {
  /** Directed: packets from `from` to `to` are dropped. A two-way partition is two entries. */
  partitions: Array<{ from: string; to: string }>;
  /** Drop probability per host. */
  lossy: Record<string, number>;
  /** Rate limit per host, kbit/s each way. */
  slow: Record<string, number>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

interface LabHost {
  name: string;
  address: string;
  netns: string;
  /** The host's veth end in the switch namespace (a bridge port). */
  port: string;
}

/** What the state file holds; enough to tear a lab down from another process. */
interface LabRecord {
  prefix: string;
  pid: number;
  /** Start time of `pid` (/proc/PID/stat field 22): a recycled pid is not mistaken for the creator. */
  pidStart: string | undefined;
  createdAt: string;
  /** `10.X.Y` once reserved. */
  subnet?: string;
  hosts?: string[];
  /** Set once a persistent lab is complete. */
  persistent?: boolean;
  /** The faults in effect, so another process that opens the lab sees and heals them. */
  faults?: {
    cuts: Array<{ from: string; to: string }>;
    lossy: Record<string, number>;
    slow: Record<string, number>;
  };
}

/**
 * An isolated IPv4 network of Linux network namespaces on this machine, for tests that must cut
 * processes off from each other. Layout (that of the multi-host test bed): a switch namespace
 * `<prefix>-switch` holds bridge br0; each host namespace `<prefix>-<host>` has `eth0` (a veth
 * into the switch) with 10.X.Y.(11+i)/24 and `lo` up; the root namespace joins through its own
 * veth `<prefix>-root` with 10.X.Y.1, so tests and CLIs reach every host. No default route, no
 * forwarding: nothing leaves the lab. IPv4 only (no IPv6 addresses at all, so no IPv6 traffic
 * can bypass a partition).
 *
 * Faults are applied on the wire, in the switch namespace: iptables rules on the bridged traffic
 * (br0 has nf_call_iptables, `-m physdev` names the ports) and tbf qdiscs. Senders never notice:
 * a DROP in the sender's own OUTPUT chain would make its sendto() fail with EPERM, which a real
 * network never does. The root namespace's and the hosts' own firewalls (a dockerd inside a host
 * manages that host's iptables) are never touched.
 *
 * Needs root. Every operation is serialised per lab and bounded in time; destroy() always cleans up
 * (also from an exit hook), and `NetLab.removeStale()` clears labs of processes that died. A
 * `persistent` lab (a dev cluster's) outlives its creator; `NetLab.open(prefix)` reaches it.
 */
export class NetLab {
  /** Names the root namespace in partition() and heal(). */
  static readonly ROOT = 'root';

  readonly prefix: string;
  /** The lab network, e.g. `10.213.7.0/24`. */
  readonly subnet: string;
  /** The root netns' address on the lab network (tests and CLIs in the root netns reach hosts from it). */
  readonly rootAddress: string;
  /** The root namespace's interface on the lab network. */
  readonly rootInterface: string;
  readonly switchNetns: string;
  readonly hosts: readonly string[];

  readonly #record: LabRecord;
  readonly #hosts = new Map<string, LabHost>();
  /** Directed cuts, keyed `from>to` (neither name can contain '>'), in the order they were made. */
  #cuts = new Map<string, { from: string; to: string }>();
  #lossy = new Map<string, number>();
  readonly #slow = new Map<string, number>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #destroyed: Promise<void> | undefined;

  private constructor(record: LabRecord, hosts: readonly string[]) {
    this.#record = record;
    this.prefix = record.prefix;
    const net = record.subnet!;
    this.subnet = `${net}.0/24`;
    this.rootAddress = `${net}.1`;
    this.rootInterface = `${record.prefix}-root`;
    this.switchNetns = `${record.prefix}-switch`;
    this.hosts = [...hosts];
    hosts.forEach((name, i) => {
      this.#hosts.set(name, {
        name,
        address: `${net}.${11 + i}`,
        netns: `${record.prefix}-${name}`,
        port: portName(record.prefix, i + 1),
      });
    });
    this.#loadFaults();
  }

  static async create(options: NetLabOptions): Promise<NetLab> {
    if (process.getuid?.() !== 0) {
      throw new Error('NetLab needs root (network namespaces, veth pairs, iptables, tc)');
    }
    const hosts = validateHosts(options.hosts);
    mkdirSync(LAB_STATE_DIR, { recursive: true });
    const record = claimPrefix(options.prefix, hosts);
    liveLabs.add(record);
    installExitHook();
    try {
      record.subnet = await reserveSubnet(record.prefix);
      writeRecord(record);
      const lab = new NetLab(record, hosts);
      await lab.#build();
      if (options.persistent) {
        record.persistent = true;
        writeRecord(record);
        liveLabs.delete(record); // only now: a creator killed half-way still cleans up
      }
      return lab;
    } catch (err) {
      // Whatever was made so far goes: namespaces and the root veth are found by name.
      await teardown(record);
      liveLabs.delete(record);
      throw err;
    }
  }

  /**
   * The lab `prefix` made by another process (or an earlier one), with the faults in effect. Its
   * operations work as on the creator's object; calls from different processes are not
   * serialised with each other, only those on one object.
   */
  static async open(prefix: string): Promise<NetLab> {
    const record = PREFIX.test(prefix) ? readRecord(prefix) : undefined;
    if (record?.subnet === undefined || record.hosts === undefined) {
      throw new Error(`no lab ${prefix} (no complete ${statePath(prefix)})`);
    }
    if (!existsSync(`/run/netns/${prefix}-switch`)) {
      throw new Error(`the namespaces of lab ${prefix} are gone`);
    }
    return new NetLab(record, record.hosts);
  }

  /** True when lab `prefix` has a state file and its namespaces (both go with a reboot). */
  static async exists(prefix: string): Promise<boolean> {
    if (!PREFIX.test(prefix)) return false;
    const record = readRecord(prefix);
    return record?.subnet !== undefined && existsSync(`/run/netns/${prefix}-switch`);
  }

  /**
   * Removes the leftovers of labs whose creator process is gone (SIGKILLed test runner, crashed
   * dev cluster): their namespaces, root veth and processes still running in them. Only labs with
   * a state file in LAB_STATE_DIR whose prefix starts with `prefixFamily` are considered, so
   * namespaces made by anything else are never touched, and persistent labs are kept. Returns
   * how many labs it removed.
   */
  static async removeStale(prefixFamily = ''): Promise<number> {
    let entries: string[];
    try {
      entries = readdirSync(LAB_STATE_DIR);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const entry of entries) {
      if (!entry.endsWith('.json')) continue;
      const prefix = entry.slice(0, -'.json'.length);
      if (!PREFIX.test(prefix) || !prefix.startsWith(prefixFamily)) continue;
      const record = readRecord(prefix);
      if (record === undefined) {
        // Unreadable: only trust its age (a claim is written in one small write, so this is rare).
        if (ageMs(statePath(prefix)) < 60_000) continue;
        await teardown({ prefix, pid: 0, pidStart: undefined, createdAt: '' });
        removed++;
        continue;
      }
      if (record.persistent || creatorAlive(record)) continue;
      await teardown(record);
      removed++;
    }
    // A subnet reservation whose lab has no state file any more (creator killed mid-teardown).
    for (const entry of safeReaddir(LAB_STATE_DIR)) {
      if (!entry.startsWith('net-')) continue;
      const owner = readText(`${LAB_STATE_DIR}/${entry}`)?.trim();
      if (owner === undefined || !owner.startsWith(prefixFamily)) continue;
      if (!existsSync(statePath(owner))) rmSync(`${LAB_STATE_DIR}/${entry}`, { force: true });
    }
    return removed;
  }

  /** A host's IPv4 address on the lab network. */
  address(host: string): string {
    return this.#host(host).address;
  }

  /** The netns name of a host (`/run/netns/<name>`). */
  netnsName(host: string): string {
    return this.#host(host).netns;
  }

  /**
   * argv that runs `argv` inside the host's network namespace and nothing else (mount namespace,
   * /sys, cwd unchanged, unlike `ip netns exec`). nsenter execs the program, so a spawned child's
   * pid is the program's: fine for ManagedProcess. `wrap(host, [])` is a command prefix (e.g. the
   * `prefix` option of ballastdProcess).
   */
  wrap(host: string, argv: readonly string[]): string[] {
    return ['nsenter', `--net=/run/netns/${this.#host(host).netns}`, '--', ...argv];
  }

  /** Runs a command inside the host's netns to completion; rejects with its stderr on failure or timeout. */
  async exec(
    host: string,
    argv: readonly string[],
    options: { timeoutMs?: number; input?: string | Buffer } = {},
  ): Promise<ExecResult> {
    this.#checkOpen();
    return runBounded(this.wrap(host, argv), {
      timeoutMs: options.timeoutMs ?? EXEC_TIMEOUT_MS,
      input: options.input,
    });
  }

  /**
   * Cuts traffic between a and b (hosts, or NetLab.ROOT). Both ways by default; with oneWay,
   * packets from a to b are dropped while b's packets to a still arrive (so TCP from either side
   * cannot complete a handshake, but UDP from b reaches a). Idempotent.
   */
  async partition(a: string, b: string, options: { oneWay?: boolean } = {}): Promise<void> {
    this.#endpoint(a);
    this.#endpoint(b);
    if (a === b) throw new Error(`cannot partition ${a} from itself`);
    return this.#serial(async () => {
      const cuts = new Map(this.#cuts);
      addCut(cuts, a, b);
      if (!options.oneWay) addCut(cuts, b, a);
      await this.#applyFilter(cuts, this.#lossy);
    });
  }

  /** Cuts `host` from every other lab host, both ways (the root netns keeps reaching it unless includeRoot). */
  async isolate(host: string, options: { includeRoot?: boolean } = {}): Promise<void> {
    this.#host(host);
    return this.#serial(async () => {
      const cuts = new Map(this.#cuts);
      const others = this.hosts.filter((h) => h !== host);
      if (options.includeRoot) others.push(NetLab.ROOT);
      for (const other of others) {
        addCut(cuts, host, other);
        addCut(cuts, other, host);
      }
      await this.#applyFilter(cuts, this.#lossy);
    });
  }

  /**
   * Removes partitions: between a and b (both directions), every one involving a when b is
   * omitted (the undo of isolate), or all of them without arguments. Loss and rate limits stay.
   */
  async heal(a?: string, b?: string): Promise<void> {
    if (a !== undefined) this.#endpoint(a);
    if (b !== undefined) this.#endpoint(b);
    return this.#serial(async () => {
      const cuts = new Map(
        [...this.#cuts].filter(([, c]) => {
          if (a === undefined) return false;
          if (b === undefined) return c.from !== a && c.to !== a;
          return !((c.from === a && c.to === b) || (c.from === b && c.to === a));
        }),
      );
      await this.#applyFilter(cuts, this.#lossy);
    });
  }

  /** Drops each packet to and from `host` with this probability (0 < p <= 1); 0 removes it. */
  async lossy(host: string, probability: number): Promise<void> {
    this.#host(host);
    if (!Number.isFinite(probability) || probability < 0 || probability > 1) {
      throw new Error(`loss probability must be within [0, 1], got ${probability}`);
    }
    return this.#serial(async () => {
      const lossy = new Map(this.#lossy);
      if (probability === 0) lossy.delete(host);
      else lossy.set(host, probability);
      await this.#applyFilter(this.#cuts, lossy);
    });
  }

  /**
   * Limits `host`'s egress and ingress to `kbit` kilobits per second each with a token bucket:
   * tbf on the host's eth0 (egress) and on its switch port (the switch's egress towards the host).
   * `latencyMs` bounds the queue (tbf drops what would wait longer). slow(host, 0) removes it.
   */
  async slow(host: string, kbit: number, latencyMs = 100): Promise<void> {
    const h = this.#host(host);
    if (!Number.isInteger(kbit) || kbit < 0) {
      throw new Error(`rate must be a whole number of kbit/s >= 0, got ${kbit}`);
    }
    if (!Number.isInteger(latencyMs) || latencyMs <= 0) {
      throw new Error(`latencyMs must be a positive integer, got ${latencyMs}`);
    }
    return this.#serial(async () => {
      const targets: Array<[string, string]> = [
        [h.netns, LAB_INTERFACE],
        [this.switchNetns, h.port],
      ];
      if (kbit === 0) {
        if (!this.#slow.has(host)) return;
        // A qdisc that is already gone is what we want: ignore its error.
        for (const [ns, dev] of targets) {
          await runBounded(['tc', '-n', ns, 'qdisc', 'del', 'dev', dev, 'root']).catch(
            () => undefined,
          );
        }
        this.#slow.delete(host);
        return;
      }
      // The bucket must hold at least a few full frames (tbf never sends a packet larger than
      // it) and about 20 ms of traffic at high rates, so the limit holds without starving.
      const burst = Math.max(8 * 1024, Math.ceil((kbit * 125) / 50));
      const spec = [
        'tbf',
        'rate',
        `${kbit}kbit`,
        'burst',
        String(burst),
        'latency',
        `${latencyMs}ms`,
      ];
      for (const [ns, dev] of targets) {
        await runBounded(['tc', '-n', ns, 'qdisc', 'replace', 'dev', dev, 'root', ...spec]);
      }
      this.#slow.set(host, kbit);
    });
  }

  /** Removes every fault: partitions, loss and rate limits. */
  async reset(): Promise<void> {
    return this.#serial(async () => {
      await this.#applyFilter(new Map(), new Map());
      for (const host of [...this.#slow.keys()]) {
        const h = this.#host(host);
        await runBounded(['tc', '-n', h.netns, 'qdisc', 'del', 'dev', LAB_INTERFACE, 'root']).catch(
          () => undefined,
        );
        await runBounded([
          'tc',
          '-n',
          this.switchNetns,
          'qdisc',
          'del',
          'dev',
          h.port,
          'root',
        ]).catch(() => undefined);
        this.#slow.delete(host);
      }
    });
  }

  /** What is in effect now (after the operations that have completed), for reports. */
  faults(): NetFaults {
    return {
      partitions: [...this.#cuts.values()].map((c) => ({ ...c })),
      lossy: Object.fromEntries(this.#lossy),
      slow: Object.fromEntries(this.#slow),
    };
  }

  /**
   * Removes every namespace, interface and rule the lab created, SIGKILLing processes still
   * running in its namespaces (they would linger without a network). Waits for operations in
   * flight (bounded), never throws, idempotent.
   */
  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      this.#closed = true;
      await settledWithin(this.#queue, DESTROY_WAIT_MS);
      await teardown(this.#record);
      liveLabs.delete(this.#record);
    })().catch(() => undefined);
    return this.#destroyed;
  }

  async #build(): Promise<void> {
    const sw = this.switchNetns;
    const hosts = [...this.#hosts.values()];
    await ipBatch(undefined, [`netns add ${sw}`, ...hosts.map((h) => `netns add ${h.netns}`)]);
    // nf_call_iptables on the bridge itself: bridged IPv4 goes through this namespace's FORWARD
    // chain whatever the machine-wide br_netfilter sysctl says.
    await ipBatch(sw, [
      `link add ${BRIDGE} type bridge nf_call_iptables 1`,
      `link set ${BRIDGE} addrgenmode none`,
      `link set ${BRIDGE} up`,
    ]);
    // addrgenmode none: no IPv6 link-local address, so IPv6 cannot bypass the IPv4 rules.
    await ipBatch(undefined, [
      `link add ${this.rootInterface} type veth peer name ${portName(this.prefix, 0)} netns ${sw}`,
      `link set ${this.rootInterface} addrgenmode none`,
      `addr add ${this.rootAddress}/24 dev ${this.rootInterface}`,
      `link set ${this.rootInterface} up`,
    ]);
    await inParallel(hosts, 4, (h) =>
      ipBatch(h.netns, [
        'link set lo up',
        `link add ${LAB_INTERFACE} type veth peer name ${h.port} netns ${sw}`,
        `link set ${LAB_INTERFACE} addrgenmode none`,
        `addr add ${h.address}/24 dev ${LAB_INTERFACE}`,
        `link set ${LAB_INTERFACE} up`,
      ]),
    );
    const ports = [portName(this.prefix, 0), ...hosts.map((h) => h.port)];
    await ipBatch(
      sw,
      ports.map((p) => `link set ${p} master ${BRIDGE} up`),
    );
    await iptablesRestore(sw, [`:${CHAIN} - [0:0]`, `-A FORWARD -j ${CHAIN}`]);
  }

  /**
   * Rewrites the whole rule chain from `cuts` and `lossy` in one iptables-restore transaction
   * (declaring the chain with --noflush empties it first), then records them as in effect.
   */
  async #applyFilter(
    cuts: Map<string, { from: string; to: string }>,
    lossy: Map<string, number>,
  ): Promise<void> {
    const rules = [`:${CHAIN} - [0:0]`];
    for (const { from, to } of cuts.values()) {
      rules.push(
        `-A ${CHAIN} -m physdev --physdev-in ${this.#port(from)} --physdev-out ${this.#port(to)} -j DROP`,
      );
    }
    for (const [host, p] of lossy) {
      const chance = p >= 1 ? '' : `-m statistic --mode random --probability ${p} `;
      const port = this.#port(host);
      rules.push(`-A ${CHAIN} -m physdev --physdev-in ${port} ${chance}-j DROP`);
      rules.push(`-A ${CHAIN} -m physdev --physdev-out ${port} ${chance}-j DROP`);
    }
    await iptablesRestore(this.switchNetns, rules);
    this.#cuts = cuts;
    this.#lossy = lossy;
  }

  /** Runs `fn` after every operation called before it, so concurrent callers cannot interleave rules. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    const result = this.#queue.then(async () => {
      // Another process may have changed the faults since (`ballast dev heal` after `partition`).
      this.#loadFaults();
      const value = await fn();
      this.#saveFaults();
      return value;
    });
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #loadFaults(): void {
    const saved = readRecord(this.prefix)?.faults;
    if (saved === undefined) return;
    this.#cuts = new Map();
    for (const c of saved.cuts) addCut(this.#cuts, c.from, c.to);
    this.#lossy = new Map(Object.entries(saved.lossy));
    this.#slow.clear();
    for (const [h, kbit] of Object.entries(saved.slow)) this.#slow.set(h, kbit);
  }

  #saveFaults(): void {
    // No state file: the lab was destroyed meanwhile, and must not come back as a record.
    const record = readRecord(this.prefix);
    if (record === undefined) return;
    const f = this.faults();
    record.faults = { cuts: f.partitions, lossy: f.lossy, slow: f.slow };
    writeRecord(record);
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`lab ${this.prefix} is destroyed`);
  }

  #host(name: string): LabHost {
    const h = this.#hosts.get(name);
    if (!h)
      throw new Error(`no host ${name} in lab ${this.prefix} (have: ${this.hosts.join(', ')})`);
    return h;
  }

  #endpoint(name: string): void {
    if (name !== NetLab.ROOT) this.#host(name);
  }

  #port(name: string): string {
    return name === NetLab.ROOT ? portName(this.prefix, 0) : this.#host(name).port;
  }
}

function addCut(cuts: Map<string, { from: string; to: string }>, from: string, to: string): void {
  cuts.set(`${from}>${to}`, { from, to });
}

/** The switch-side veth of endpoint `index` (0 = the root namespace, 1.. = hosts). */
function portName(prefix: string, index: number): string {
  return `${prefix}-p${index}`;
}

function validateHosts(hosts: readonly string[]): string[] {
  if (hosts.length < 1 || hosts.length > MAX_HOSTS) {
    throw new Error(`a lab has 1 to ${MAX_HOSTS} hosts, got ${hosts.length}`);
  }
  const seen = new Set<string>();
  for (const h of hosts) {
    if (!HOST_NAME.test(h)) throw new Error(`invalid host name ${JSON.stringify(h)}`);
    if (h === NetLab.ROOT || h === 'switch') throw new Error(`host name ${h} is reserved`);
    if (seen.has(h)) throw new Error(`duplicate host name ${h}`);
    seen.add(h);
  }
  return [...hosts];
}

// ---- state files ----

function statePath(prefix: string): string {
  return `${LAB_STATE_DIR}/${prefix}.json`;
}

function reservationPath(net: string): string {
  return `${LAB_STATE_DIR}/net-${net}`;
}

/**
 * Takes a prefix by creating its state file exclusively (two labs racing for one prefix cannot
 * both win) and checks nothing on the machine already uses the names.
 */
function claimPrefix(wanted: string | undefined, hosts: string[]): LabRecord {
  if (wanted !== undefined && !PREFIX.test(wanted)) {
    throw new Error(`invalid lab prefix ${JSON.stringify(wanted)}: want ${PREFIX.source}`);
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const prefix = wanted ?? `bl${randomBytes(2).toString('hex')}`;
    const record: LabRecord = {
      prefix,
      pid: process.pid,
      pidStart: processStartTime(process.pid),
      createdAt: new Date().toISOString(),
      hosts,
    };
    let claimed = false;
    try {
      writeFileSync(statePath(prefix), JSON.stringify(record) + '\n', { flag: 'wx' });
      claimed = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (claimed && namesInUse(prefix).length === 0) return record;
    if (claimed) rmSync(statePath(prefix), { force: true });
    if (wanted !== undefined) {
      throw new Error(
        `lab prefix ${wanted} is in use (${statePath(wanted)} or its namespaces exist)`,
      );
    }
  }
  throw new Error('could not find a free lab prefix in 20 attempts');
}

/** Namespaces and the root interface of `prefix` that exist now. */
function namesInUse(prefix: string): string[] {
  const names = safeReaddir('/run/netns').filter((n) => n.startsWith(`${prefix}-`));
  if (existsSync(`/sys/class/net/${prefix}-root`)) names.push(`${prefix}-root`);
  return names;
}

function writeRecord(record: LabRecord): void {
  // rename: a reader never sees a half-written file.
  const tmp = `${statePath(record.prefix)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(record) + '\n');
  renameSync(tmp, statePath(record.prefix));
}

function readRecord(prefix: string): LabRecord | undefined {
  const text = readText(statePath(prefix));
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as LabRecord;
    return r.prefix === prefix && typeof r.pid === 'number' ? r : undefined;
  } catch {
    return undefined;
  }
}

function creatorAlive(record: LabRecord): boolean {
  return isAlive(record.pid) && processStartTime(record.pid) === record.pidStart;
}

/** Start time of `pid` (/proc/PID/stat field 22), to tell a recycled pid from the process. */
export function processStartTime(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  // Fields after "(comm)" start at field 3, so starttime (field 22) is the 20th of them.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

// ---- addressing ----

/**
 * Picks a free 10.X.Y.0/24 (X in 200..250): one that overlaps no address or route of the root
 * namespace (any table) and that no other lab reserved. The reservation file is created
 * exclusively, so two labs created at the same moment cannot get the same subnet.
 */
async function reserveSubnet(prefix: string): Promise<string> {
  const used = await usedNetworks();
  for (let attempt = 0; attempt < 500; attempt++) {
    const net = `10.${randomInt(200, 251)}.${randomInt(0, 256)}`;
    const base = ipv4ToInt(`${net}.0`);
    if (used.some((u) => overlaps(u, { base, bits: 24 }))) continue;
    try {
      writeFileSync(reservationPath(net), prefix + '\n', { flag: 'wx' });
      return net;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error('no free /24 in 10.200-250.x.0 after 500 attempts');
}

interface Network {
  base: number;
  bits: number;
}

async function usedNetworks(): Promise<Network[]> {
  const nets: Network[] = [];
  const addrs = JSON.parse(
    (await runBounded(['ip', '-j', '-4', 'addr', 'show'])).stdout || '[]',
  ) as Array<{
    addr_info?: Array<{ local?: string; prefixlen?: number }>;
  }>;
  for (const link of addrs) {
    for (const a of link.addr_info ?? []) {
      if (a.local) nets.push({ base: ipv4ToInt(a.local), bits: a.prefixlen ?? 32 });
    }
  }
  const routes = JSON.parse(
    (await runBounded(['ip', '-j', '-4', 'route', 'show', 'table', 'all'])).stdout || '[]',
  ) as Array<{ dst?: string }>;
  for (const r of routes) {
    // A default route overlaps everything and says nothing about what is in use.
    if (!r.dst || r.dst === 'default') continue;
    const [addr, bits] = r.dst.split('/');
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(addr!)) continue;
    nets.push({ base: ipv4ToInt(addr!), bits: bits === undefined ? 32 : Number(bits) });
  }
  return nets;
}

function overlaps(a: Network, b: Network): boolean {
  const bits = Math.min(a.bits, b.bits);
  if (bits === 0) return true;
  const mask = (0xffffffff << (32 - bits)) >>> 0;
  return (a.base & mask) >>> 0 === (b.base & mask) >>> 0;
}

function ipv4ToInt(addr: string): number {
  return addr.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

// ---- teardown ----

/**
 * Everything of the lab `record.prefix` goes: processes in its namespaces (SIGKILL), the root
 * veth (deleting it also deletes its switch-side peer at once; namespace deletion alone removes
 * veths only asynchronously), the namespaces, then the reservation and state files. Names are
 * found on the machine, so a half-built lab is handled too. Never throws.
 */
async function teardown(record: LabRecord): Promise<void> {
  try {
    const namespaces = labNamespaces(record.prefix);
    killProcessesIn(namespaces);
    const script = teardownScript(record.prefix, namespaces);
    if (script)
      await runBounded(['ip', '-force', '-batch', '-'], { input: script }).catch(() => undefined);
    let left = namesInUse(record.prefix);
    for (const name of left) {
      // One retry, one name at a time (e.g. a namespace added by a build step still running).
      const argv = name.endsWith('-root')
        ? ['ip', 'link', 'del', name]
        : ['ip', 'netns', 'del', name];
      await runBounded(argv).catch(() => undefined);
    }
    left = namesInUse(record.prefix);
    if (left.length > 0) {
      process.emitWarning(`NetLab ${record.prefix}: could not remove ${left.join(', ')}`);
      return; // keep the state file so removeStale can try again
    }
    removeFiles(record);
  } catch (err) {
    process.emitWarning(`NetLab ${record.prefix}: teardown failed: ${String(err)}`);
  }
}

/** The same, synchronously, for the exit hook. */
function teardownSync(record: LabRecord): void {
  try {
    const namespaces = labNamespaces(record.prefix);
    killProcessesIn(namespaces);
    const script = teardownScript(record.prefix, namespaces);
    if (script) {
      spawnSync('ip', ['-force', '-batch', '-'], {
        input: script,
        stdio: ['pipe', 'ignore', 'ignore'],
        timeout: 10_000,
      });
    }
    if (namesInUse(record.prefix).length === 0) removeFiles(record);
  } catch {
    // exit hook: best effort, removeStale gets the rest
  }
}

function labNamespaces(prefix: string): string[] {
  return safeReaddir('/run/netns').filter((n) => n.startsWith(`${prefix}-`));
}

function teardownScript(prefix: string, namespaces: string[]): string {
  const lines: string[] = [];
  if (existsSync(`/sys/class/net/${prefix}-root`)) lines.push(`link del ${prefix}-root`);
  for (const ns of namespaces) lines.push(`netns del ${ns}`);
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

function removeFiles(record: LabRecord): void {
  const net = record.subnet ?? readRecord(record.prefix)?.subnet;
  if (net !== undefined && readText(reservationPath(net))?.trim() === record.prefix) {
    rmSync(reservationPath(net), { force: true });
  }
  rmSync(statePath(record.prefix), { force: true });
  for (const entry of safeReaddir(LAB_STATE_DIR)) {
    // temporary files of a writer that died between write and rename
    if (entry.startsWith(`${record.prefix}.json.`))
      rmSync(`${LAB_STATE_DIR}/${entry}`, { force: true });
  }
}

/** SIGKILLs every process whose network namespace is one of `namespaces`; returns how many. */
function killProcessesIn(namespaces: readonly string[]): number {
  const ids = new Set<string>();
  for (const ns of namespaces) {
    try {
      const st = statSync(`/run/netns/${ns}`);
      ids.add(`${st.dev}:${st.ino}`);
    } catch {
      // already gone
    }
  }
  if (ids.size === 0) return 0;
  let killed = 0;
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const st = statSync(`/proc/${entry}/ns/net`);
      if (!ids.has(`${st.dev}:${st.ino}`)) continue;
      process.kill(Number(entry), 'SIGKILL');
      killed++;
    } catch {
      // exited meanwhile
    }
  }
  return killed;
}

// Labs not yet destroyed: the exit hook removes them when the process ends without doing it.
const liveLabs = new Set<LabRecord>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const record of liveLabs) teardownSync(record);
  });
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(sig, () => {
      // process.exit runs the 'exit' listeners above (and those of managed-process).
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15));
    });
  }
}

// ---- commands ----

/**
 * Runs a command to completion with a deadline. The child gets its own process group, so a
 * timeout kills whatever it started too. Exported for HostLab (hostlab.ts).
 */
export function runBounded(
  argv: readonly string[],
  options: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const [command, ...args] = argv;
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(command!, args, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    let settled = false;
    const settle = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result = {
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (error) reject(error);
      else resolve(result);
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      settle(new Error(`${argv.join(' ')}: timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (e) => settle(new Error(`${command}: ${e.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) return settle(undefined);
      const stderr = Buffer.concat(err).toString('utf8').trim().slice(-4000);
      settle(
        new Error(
          `${argv.join(' ').slice(0, 500)} failed (${signal ?? `code ${code}`})${stderr ? `: ${stderr}` : ''}`,
        ),
      );
    });
    if (options.input !== undefined) {
      child.stdin!.on('error', () => undefined); // EPIPE when the child exits without reading
      child.stdin!.end(options.input);
    }
  });
}

/** Runs `ip` commands in one process (in `netns`, or the root namespace). */
function ipBatch(netns: string | undefined, lines: readonly string[]): Promise<ExecResult> {
  return runBounded(['ip', ...(netns ? ['-n', netns] : []), '-batch', '-'], {
    input: lines.join('\n') + '\n',
  });
}

function iptablesRestore(netns: string, rules: readonly string[]): Promise<ExecResult> {
  return runBounded(
    ['nsenter', `--net=/run/netns/${netns}`, '--', 'iptables-restore', '--noflush'],
    {
      input: ['*filter', ...rules, 'COMMIT', ''].join('\n'),
    },
  );
}

/** Runs `fn` over `items`, at most `limit` at a time; after a failure starts no more, then throws it. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/** Waits for `p` to settle, at most `ms` (the timer is cleared so it never holds the process). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p.catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

// ---- small fs helpers ----

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}
