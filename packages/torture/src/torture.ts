import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterEntries, startDevCluster, stopDevCluster, type ClusterFile } from 'ballast';
import { NetLab, VolumeWorkload } from '@ballast/testkit';
import { BlockWorkload } from './block-workload.js';
import { FaultDisk } from './fault-disk/disk.js';
import { FsWorkload } from './fs-workload.js';
import { MetaRest, agentCall } from './meta-client.js';
import {
  FAULT_KINDS,
  applyFault,
  planFault,
  type AppliedFault,
  type FaultKind,
  type FaultPlan,
  type NemesisWorld,
} from './nemesis.js';
import { differingChunks, replicaDigest } from './replicas.js';
import { forkRng, pick, between, type Rng } from './rng.js';
import { Supervisor } from './supervisor.js';
import { writeReport, type TortureReport, type FaultRecord } from './report.js';

export interface TortureOptions {
  minutes: number;
  seed: number;
  /** Working directory: the cluster, its logs, the disks, the report. */
  dir: string;
  /** Keep the cluster's directory after a passing run (a failing run always keeps it). */
  keep: boolean;
  faults: readonly FaultKind[];
  /** Faults in force at once at most. */
  concurrency: number;
  holdMs: [number, number];
  gapMs: [number, number];
  /** The block volumes' replica timeout (the longest a cut-off replica stalls writes). */
  replicaTimeout: string;
  log?: (line: string) => void;
}

const MiB = 1024 * 1024;
const FAKETIME_LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const RECOVERY_TIMEOUT_MS = 6 * 60_000;

interface VolumeView {
  id: string;
  name: string;
  state: string;
  desiredReplicas: number;
  replicas: Array<{ nodeId: string; role: string }>;
  staleReplicas: Array<{ nodeId: string }>;
  attachment: { host: string } | null;
}

interface NodeView {
  id: string;
  address: string;
  state: string;
}

/**
 * One bounded torture run: a dev cluster whose every process has a network namespace of its own
 * (3 meta members with fake wall clocks, 4 storage nodes of which one keeps its data on a disk
 * that can lose power or fail I/O and one on a disk that can fill, and an agent with an
 * embedded node), workloads with checkers (stamped block writes on two raw NBD volumes, files
 * with fsync through the Docker plugin, metadata operations checked for linearizability), and
 * the nemeses scheduled from the seed. Ends by healing everything, waiting for recovery and
 * checking: every acknowledged-and-flushed write is there, no read went back, replicas are
 * byte-identical, the metadata history linearizes, no process crashed.
 */
export async function runTorture(o: TortureOptions): Promise<TortureReport> {
  const t0 = Date.now();
  const now = (): number => Date.now() - t0;
  mkdirSync(o.dir, { recursive: true });
  const eventsPath = join(o.dir, 'events.jsonl');
  const log = (event: Record<string, unknown>): void => {
    appendFileSync(eventsPath, JSON.stringify({ atMs: now(), ...event }) + '\n');
  };
  const say = (line: string): void => {
    (o.log ?? ((l: string) => process.stdout.write(l + '\n')))(
      `[${(now() / 1000).toFixed(1)}s] ${line}`,
    );
    log({ event: 'say', line });
  };
  const report: TortureReport = {
    seed: o.seed,
    minutes: o.minutes,
    startedAt: new Date(t0).toISOString(),
    dir: o.dir,
    replay: `npm run torture -- --minutes ${o.minutes} --seed ${o.seed}`,
    faults: [],
    checks: [],
    workloads: {},
    crashes: [],
    passed: false,
    notes: [],
  };
  const disks: FaultDisk[] = [];
  let file: ClusterFile | undefined;
  let supervisor: Supervisor | undefined;
  let lab: NetLab | undefined;
  try {
    // ---- the cluster ----------------------------------------------------------------------
    say(`seed ${o.seed}, ${o.minutes} min, faults: ${o.faults.join(', ')}`);
    const faultNode = 'n3';
    const fullNode = 'n4';
    const faultDisk = await FaultDisk.create({
      dir: join(o.dir, 'disks', faultNode),
      sizeBytes: 3 * 1024 * MiB,
      mountPoint: join(o.dir, 'data', faultNode),
    });
    disks.push(faultDisk);
    const fullDisk = await FaultDisk.create({
      dir: join(o.dir, 'disks', fullNode),
      sizeBytes: 1024 * MiB,
      mountPoint: join(o.dir, 'data', fullNode),
    });
    disks.push(fullDisk);
    const clocks = new Map<string, string>();
    mkdirSync(join(o.dir, 'clocks'), { recursive: true });
    for (const id of ['m1', 'm2', 'm3']) {
      const path = join(o.dir, 'clocks', id);
      writeFileSync(path, '+0s\n');
      clocks.set(id, path);
    }
    say('starting the cluster (3 meta, 4 nodes, agent with an embedded node; each in a netns)');
    file = await startDevCluster({
      dir: join(o.dir, 'cluster'),
      meta: 3,
      nodes: 4,
      agent: true,
      embedNode: true,
      netns: true,
      labPersistent: false,
      pluginSocket: join(o.dir, 'plugin.sock'),
      processEnv: (id, role) =>
        role === 'meta'
          ? {
              // Only the wall clock jumps (as an NTP step would); timers run on the monotonic one.
              LD_PRELOAD: FAKETIME_LIB,
              FAKETIME_TIMESTAMP_FILE: clocks.get(id)!,
              FAKETIME_CACHE_DURATION: '1',
              DONT_FAKE_MONOTONIC: '1',
            }
          : undefined,
      // A subdirectory: the disk's root holds lost+found and the filler file.
      nodeDataDir: (id) =>
        id === faultNode
          ? join(o.dir, 'data', faultNode, 'node')
          : id === fullNode
            ? join(o.dir, 'data', fullNode, 'node')
            : undefined,
      extraArgs: {
        meta: ['--node-timeout', '6s', '--host-timeout', '20s', '--control-interval', '1s'],
        agent: ['--replica-timeout', o.replicaTimeout],
      },
    });
    const cluster = file;
    lab = await NetLab.open(cluster.lab!.prefix);
    const meta = new MetaRest(cluster);
    supervisor = new Supervisor(cluster, now, log);
    supervisor.watch();
    const agent = cluster.agents[0]!;
    await meta.send('PATCH', '/v1/settings', { replicaReplacementGraceMs: 20_000 });

    // ---- the workloads --------------------------------------------------------------------
    const blockVolumes = [
      { name: 'blk3', replicas: 3 },
      { name: 'blk2', replicas: 2 },
    ];
    const blocks: BlockWorkload[] = [];
    for (const v of blockVolumes) {
      const created = await meta.send('POST', '/v1/volumes', {
        name: v.name,
        size: '256MiB',
        replicas: v.replicas,
        chunkSize: '1MiB',
        replicaTimeout: o.replicaTimeout,
      });
      if (created.status !== 201) {
        throw new Error(`create ${v.name}: ${created.status} ${JSON.stringify(created.body)}`);
      }
      const attached = await agentCall(
        agent.adminSocket!,
        'POST',
        `/v1/volumes/${v.name}/attach`,
        {},
      );
      if (attached.status !== 200) {
        throw new Error(`attach ${v.name}: ${attached.status} ${JSON.stringify(attached.body)}`);
      }
      const uri = new URL(String(attached.body.uri));
      const w = new BlockWorkload({
        volume: v.name,
        socketPath: uri.searchParams.get('socket')!,
        exportName: decodeURIComponent(uri.pathname.slice(1)),
        blocks: 4096,
        queueDepth: 8,
        flushEvery: 24,
        rng: forkRng(o.seed, `block-${v.name}`),
        now,
        log,
      });
      blocks.push(w);
    }
    const fs = new FsWorkload({
      pluginSocket: cluster.agents[0]!.pluginSocket,
      volume: 'fs3',
      sizeBytes: 256 * MiB,
      replicas: 3,
      seed: o.seed,
      log,
    });
    await fs.mount();
    const metaWorkload = new VolumeWorkload({
      cluster: meta,
      targets: () => meta.ids(),
      names: 6,
      seed: o.seed,
      prefix: 'lin',
      pauseMs: 25,
    });
    for (const w of blocks) w.start();
    fs.start();
    metaWorkload.start(3);
    say(
      `workloads running: ${blockVolumes.map((v) => v.name).join(', ')} (blocks), fs3 (files at ${fs.mountpoint}), metadata (3 clients)`,
    );

    // ---- health, for the scheduler and the heal times -------------------------------------
    const health = new HealthMonitor(meta, now);
    health.start();

    // ---- the nemeses ------------------------------------------------------------------------
    const world: NemesisWorld = {
      supervisor,
      lab,
      nodes: ['n1', 'n2', 'n3', 'n4'],
      metas: ['m1', 'm2', 'm3'],
      agent: 'agent',
      faultDisk: {
        node: faultNode,
        powerCut: async (seed, keepFraction) => {
          const cut = await faultDisk.powerCut({ seed, keepFraction });
          log({ event: 'power-cut', node: faultNode, ...cut });
        },
        failAll: () => faultDisk.failAll('all'),
        clear: () => faultDisk.clearFailures(),
      },
      fullDisk: {
        node: fullNode,
        fill: async () => {
          const filled = await fullDisk.fill();
          log({ event: 'disk-full', node: fullNode, ...filled });
        },
        unfill: () => fullDisk.unfill(),
      },
      clocks,
    };
    const scheduler = new Scheduler(o, world, forkRng(o.seed, 'nemesis'), health, now, log, say);
    const deadline = Date.now() + o.minutes * 60_000;
    await scheduler.run(deadline);
    report.faults = scheduler.records;

    // ---- heal and recover -------------------------------------------------------------------
    say(`${scheduler.records.length} faults injected; healing everything`);
    await scheduler.healAll();
    await lab.heal();
    for (const id of [...world.metas, ...world.nodes, world.agent]) {
      await lab.lossy(id, 0).catch(() => undefined);
      await lab.slow(id, 0).catch(() => undefined);
    }
    for (const path of clocks.values()) writeFileSync(path, '+0s\n');
    await faultDisk.clearFailures();
    await fullDisk.unfill();
    await supervisor.reviveAll();
    const recoveryStart = now();
    const recovered = await health.waitHealthy(RECOVERY_TIMEOUT_MS);
    report.recoveryMs = recovered ? now() - recoveryStart : null;
    report.checks.push({
      name: 'recovery',
      passed: recovered,
      detail: recovered
        ? `every volume healthy ${((now() - recoveryStart) / 1000).toFixed(1)} s after the last heal`
        : `volumes not healthy ${RECOVERY_TIMEOUT_MS / 1000} s after the last heal: ${health.describe()}`,
    });
    say(report.checks.at(-1)!.detail);

    // ---- stop the workloads and check --------------------------------------------------------
    await Promise.all([...blocks.map((w) => w.stop()), fs.stop(), metaWorkload.stop()]);
    health.stop();
    for (const [i, w] of blocks.entries()) {
      const name = blockVolumes[i]!.name;
      let finalRead: { blocks: number; violations: number } | string;
      try {
        finalRead = await w.verifyAll();
      } catch (err) {
        finalRead = `final read failed: ${(err as Error).message}`;
      }
      await w.stop();
      const violations = w.checker.violations;
      report.workloads[name] = {
        writesAcked: w.checker.writesAcked,
        writesFailed: w.checker.writesFailed,
        flushesAcked: w.checker.flushesAcked,
        readsChecked: w.checker.readsChecked,
        reconnects: w.reconnects,
        errors: Object.fromEntries(w.errorKinds),
        maxWriteMs: w.maxWriteMs,
        longestWithoutAckMs: w.maxGapMs,
      };
      report.checks.push({
        name: `${name}: acknowledged and flushed writes survive, no read goes back`,
        passed: violations.length === 0 && typeof finalRead !== 'string',
        detail:
          typeof finalRead === 'string'
            ? finalRead
            : `${w.checker.readsChecked} reads checked, ${finalRead.blocks} blocks read back at the end; ${violations.length} violation(s)${
                violations.length > 0
                  ? `: ${violations
                      .slice(0, 5)
                      .map(
                        (v) =>
                          `${v.kind} block ${v.block} got ${v.got} expected >= ${v.expected} at ${v.atMs} ms`,
                      )
                      .join('; ')}`
                  : ''
              }`,
      });
      report.stalls ??= [];
      report.stalls.push(...w.gaps.map((s) => ({ ...s, volume: name })));
    }
    const fsCheck = await fs.verify(180_000);
    report.workloads.fs3 = {
      durableFiles: fs.durable,
      writeErrors: fs.writeErrors,
      errors: Object.fromEntries(fs.errorKinds),
    };
    report.checks.push({
      name: 'fs3: every file made durable (fsync) through the plugin is intact (md5)',
      passed:
        fsCheck !== null &&
        fsCheck.missing.length === 0 &&
        fsCheck.wrong.length === 0 &&
        fsCheck.errors.length === 0,
      detail:
        fsCheck === null
          ? 'the check did not finish (the mount did not answer)'
          : `${fsCheck.checked} files checked; missing ${fsCheck.missing.length}, wrong ${fsCheck.wrong.length}, unreadable ${fsCheck.errors.length}${fsCheck.wrong.length + fsCheck.missing.length > 0 ? `: ${JSON.stringify([...fsCheck.missing, ...fsCheck.wrong].slice(0, 5))}` : ''}`,
    });
    // The metadata history: final reads through one member, then the check.
    const lin = await metaWorkload.finish(meta.ids()[0]!);
    const history = metaWorkload.history();
    report.workloads.metadata = {
      operations: history.length,
      ok: metaWorkload.stats.ok,
      refused: metaWorkload.stats.refused,
      unknown: metaWorkload.stats.unknown,
      unexpected: metaWorkload.stats.unexpected.length,
    };
    // Undecided (the search budget ran out, which a history with many indeterminate operations
    // can do) is no violation found and none excluded: the report says so, and the run does
    // not fail on it; a violation found does.
    if (lin.outcome === 'unknown') {
      report.notes.push(
        `metadata history NOT checked: the linearizability search gave up (${lin.reason}); the history is in metadata-history.txt`,
      );
    }
    report.checks.push({
      name: 'metadata: create/get/attach/detach/delete linearizable',
      passed: lin.outcome !== 'illegal' && metaWorkload.stats.unexpected.length === 0,
      detail:
        lin.outcome === 'ok'
          ? `${history.length} operations linearizable${metaWorkload.stats.unexpected.length > 0 ? `; unexpected answers: ${metaWorkload.stats.unexpected.slice(0, 3).join(' | ')}` : ''}`
          : `${lin.outcome === 'illegal' ? 'NOT linearizable' : 'UNDECIDED (not checked; search budget exceeded)'}: ${JSON.stringify(lin).slice(0, 1500)}`,
    });
    if (lin.outcome !== 'ok')
      writeFileSync(join(o.dir, 'metadata-history.txt'), metaWorkload.describeHistory(5000));

    // ---- replicas byte for byte -----------------------------------------------------------------
    for (const v of blockVolumes) {
      await agentCall(agent.adminSocket!, 'POST', `/v1/volumes/${v.name}/detach`, {}).catch(
        () => undefined,
      );
    }
    await fs
      .unmount()
      .catch((err: unknown) => report.notes.push(`fs3 unmount: ${(err as Error).message}`));
    const nodes = (await meta.get<{ items: NodeView[] }>('/v1/nodes?limit=1000')).items;
    for (const name of [...blockVolumes.map((v) => v.name), 'fs3']) {
      report.checks.push(await compareReplicas(cluster, meta, nodes, name));
    }

    // ---- processes ----------------------------------------------------------------------------
    supervisor.stop();
    report.crashes = supervisor.crashes;
    const fatal = scanLogs(cluster);
    report.checks.push({
      name: 'no process crashed',
      passed: supervisor.crashes.length === 0 && fatal.length === 0,
      detail:
        supervisor.crashes.length === 0 && fatal.length === 0
          ? 'every process that died was killed by a nemesis'
          : `${supervisor.crashes.length} unexpected exit(s) (${supervisor.crashes.map((c) => c.id).join(', ')}); fatal log lines: ${fatal.slice(0, 3).join(' | ')}`,
    });
    report.passed = report.checks.every((c) => c.passed);
  } catch (err) {
    report.notes.push(`the run stopped: ${(err as Error).stack ?? String(err)}`);
    report.checks.push({
      name: 'the run completed',
      passed: false,
      detail: (err as Error).message,
    });
    report.passed = false;
  } finally {
    supervisor?.stop();
    report.finishedAt = new Date().toISOString();
    writeReport(o.dir, report);
    say(`report: ${join(o.dir, 'report.md')}`);
    const keep = o.keep || !report.passed;
    if (file !== undefined) {
      await stopDevCluster(file.dir, { purge: !keep }).catch((err: unknown) =>
        say(`stopping the cluster: ${(err as Error).message}`),
      );
      if (keep && file.lab !== undefined) {
        // The namespaces go in any case: they outlive nothing useful and block other labs.
        await (await NetLab.open(file.lab.prefix)).destroy().catch(() => undefined);
      }
    } else {
      await lab?.destroy().catch(() => undefined);
    }
    for (const d of disks) await d.destroy();
  }
  return report;
}

/** Polls meta for volume health: the scheduler's gate and the heal times. */
class HealthMonitor {
  private timer: NodeJS.Timeout | null = null;
  healthy = false;
  private last: VolumeView[] = [];
  private readonly waiters: Array<() => void> = [];
  lastHealthyAtMs = 0;

  constructor(
    private readonly meta: MetaRest,
    private readonly now: () => number,
  ) {}

  start(): void {
    const tick = async (): Promise<void> => {
      try {
        const list = await this.meta.get<{ items: VolumeView[] }>('/v1/volumes?limit=1000');
        this.last = list.items.filter((v) => !v.name.startsWith('lin-'));
        this.healthy = this.last.every(
          (v) =>
            v.state === 'healthy' &&
            v.replicas.filter((r) => r.role === 'in-sync').length >= v.desiredReplicas,
        );
        if (this.healthy) {
          this.lastHealthyAtMs = this.now();
          for (const w of this.waiters.splice(0)) w();
        }
      } catch {
        this.healthy = false;
      }
      if (this.timer !== null) this.timer = setTimeout(() => void tick(), 500);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  async waitHealthy(timeoutMs: number): Promise<boolean> {
    if (this.timer === null) this.start();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.healthy) return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return this.healthy;
  }

  describe(): string {
    return this.last
      .filter((v) => v.state !== 'healthy')
      .map(
        (v) => `${v.name} ${v.state} (${v.replicas.map((r) => `${r.nodeId}:${r.role}`).join(' ')})`,
      )
      .join('; ');
  }
}

/** Runs the faults: `concurrency` streams, each applying, holding and healing one at a time. */
class Scheduler {
  readonly records: FaultRecord[] = [];
  private readonly active = new Map<number, { plan: FaultPlan; applied: AppliedFault | null }>();
  private nextId = 1;

  constructor(
    private readonly o: TortureOptions,
    private readonly world: NemesisWorld,
    private readonly rng: Rng,
    private readonly health: HealthMonitor,
    private readonly now: () => number,
    private readonly log: (event: Record<string, unknown>) => void,
    private readonly say: (line: string) => void,
  ) {}

  async run(deadline: number): Promise<void> {
    const streams = Array.from({ length: this.o.concurrency }, (_, i) => this.stream(i, deadline));
    await Promise.all(streams);
  }

  private allowed(plan: FaultPlan): boolean {
    const plans = [...this.active.values()].map((a) => a.plan);
    const busyTargets = new Set(plans.flatMap((p) => p.targets));
    if (plan.targets.some((t) => busyTargets.has(t))) return false;
    if (plan.storage.length > 0) {
      // One storage process out at a time, and only when every volume is whole again: a volume
      // must never lose more replicas than it has.
      if (plans.some((p) => p.storage.length > 0)) return false;
      if (!this.health.healthy) return false;
    }
    const metaOut = new Set(plans.flatMap((p) => p.meta));
    for (const m of plan.meta) metaOut.add(m);
    if (metaOut.size > 1) return false;
    // A clock jump on a member is one more way for it to misbehave: not together with another.
    if (plan.kind === 'clock-jump' && plans.some((p) => p.kind === 'clock-jump')) return false;
    return true;
  }

  private async stream(index: number, deadline: number): Promise<void> {
    const rng = forkRng(Math.floor(this.rng() * 2 ** 31), `stream-${index}`);
    while (Date.now() < deadline) {
      const kind = pick(rng, this.o.faults);
      const plan = planFault(rng, this.world, kind, this.o.holdMs);
      if (plan === null || !this.allowed(plan)) {
        await sleep(100);
        continue;
      }
      const id = this.nextId++;
      const slot: { plan: FaultPlan; applied: AppliedFault | null } = { plan, applied: null };
      this.active.set(id, slot);
      const record: FaultRecord = {
        id,
        kind: plan.kind,
        targets: plan.targets,
        detail: plan.detail,
        startMs: this.now(),
        endMs: null,
        healedMs: null,
        error: null,
      };
      this.records.push(record);
      this.log({ event: 'fault', ...record });
      try {
        slot.applied = await applyFault(this.world, plan, rng);
        await sleep(Math.max(0, Math.min(plan.holdMs, deadline - Date.now())));
      } catch (err) {
        record.error = (err as Error).message;
        this.say(`fault ${id} (${plan.kind}) failed to apply: ${record.error}`);
      } finally {
        await slot.applied?.heal();
        record.endMs = this.now();
        this.active.delete(id);
        this.log({ event: 'healed', id, kind: plan.kind, endMs: record.endMs });
        // Only faults that take storage away degrade volumes; they run one at a time, each
        // starting on a healthy cluster, so the time back to healthy is theirs.
        if (plan.storage.length > 0) void this.measureHeal(record);
      }
      if (id % 25 === 0) this.say(`${id} faults so far (${plan.kind} ${plan.detail})`);
      await sleep(between(rng, this.o.gapMs[0], this.o.gapMs[1]));
    }
  }

  /** Time from a fault's end until every volume was healthy again (null if never in the run). */
  private async measureHeal(record: FaultRecord): Promise<void> {
    const from = record.endMs!;
    for (let i = 0; i < 2400; i++) {
      if (this.health.healthy && this.health.lastHealthyAtMs >= from) {
        record.healedMs = this.health.lastHealthyAtMs - from;
        return;
      }
      await sleep(250);
    }
  }

  async healAll(): Promise<void> {
    await Promise.all([...this.active.values()].map((a) => a.applied?.heal()));
  }
}

async function compareReplicas(
  file: ClusterFile,
  meta: MetaRest,
  nodes: NodeView[],
  name: string,
): Promise<{ name: string; passed: boolean; detail: string }> {
  const check = `${name}: in-sync replicas byte-identical after the run`;
  try {
    const v = await meta.get<VolumeView>(`/v1/volumes/${name}`);
    const inSync = v.replicas.filter((r) => r.role === 'in-sync').map((r) => r.nodeId);
    const digests = new Map<string, Map<number, string>>();
    for (const id of inSync) {
      const node = nodes.find((n) => n.id === id);
      if (node === undefined) throw new Error(`node ${id} is not in the map`);
      digests.set(id, await replicaDigest(file, node, v.id));
    }
    const [first, ...rest] = inSync;
    const differences = rest
      .map((id) => ({ id, chunks: differingChunks(digests.get(first!)!, digests.get(id)!) }))
      .filter((d) => d.chunks.length > 0);
    return {
      name: check,
      passed: differences.length === 0 && inSync.length >= v.desiredReplicas,
      detail:
        differences.length === 0
          ? `${inSync.length} in-sync replicas (${inSync.join(', ')}) identical over ${digests.get(first!)?.size ?? 0} chunks`
          : `replicas differ: ${differences.map((d) => `${first} vs ${d.id}: chunks ${d.chunks.slice(0, 10).join(',')}`).join('; ')}`,
    };
  } catch (err) {
    return { name: check, passed: false, detail: `could not compare: ${(err as Error).message}` };
  }
}

/** Log lines that mean a process hit something it did not handle. */
function scanLogs(file: ClusterFile): string[] {
  const out: string[] = [];
  for (const e of clusterEntries(file)) {
    let text: string;
    try {
      text = readFileSync(e.logFile, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (/"level":60|uncaught|AssertionError|assertion failed/i.test(line)) {
        out.push(`${e.id}: ${line.slice(0, 300)}`);
        if (out.length > 20) return out;
      }
    }
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { FAULT_KINDS };
