import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ManagedProcess } from './managed-process.js';

/** The part of a tap Test that the fleet needs (kept structural so testkit does not depend on tap). */
export interface TestLike {
  teardown(fn: () => unknown): void;
  passing(): boolean;
  comment(...args: unknown[]): void;
}

/**
 * A set of processes sharing one working directory. In tests, `Fleet.forTest` ties its life to the
 * test: when the test ends the processes are stopped and the directory removed, and if the test
 * failed every process's log is printed first (set BALLAST_KEEP_TEST_DIRS=1 to keep the dir), and
 * also written under $BALLAST_FAILED_LOGS_DIR when that is set: tap's terse reporter drops
 * comments, so CI prints that directory instead.
 */
export class Fleet {
  readonly dir: string;
  readonly #procs = new Map<string, ManagedProcess>();

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  static forTest(t: TestLike, prefix = 'ballast-test-'): Fleet {
    const fleet = new Fleet(mkdtempSync(join(tmpdir(), prefix)));
    t.teardown(async () => {
      if (!t.passing()) {
        const logs = fleet.dumpLogs();
        t.comment(logs);
        saveFailedLogs(fleet.dir, logs);
      }
      await fleet.stopAll();
      if (process.env.BALLAST_KEEP_TEST_DIRS) t.comment(`kept test dir ${fleet.dir}`);
      else rmSync(fleet.dir, { recursive: true, force: true });
    });
    return fleet;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  add<P extends ManagedProcess>(proc: P): P {
    if (this.#procs.has(proc.id)) throw new Error(`process id ${proc.id} already in the fleet`);
    this.#procs.set(proc.id, proc);
    return proc;
  }

  get(id: string): ManagedProcess {
    const p = this.#procs.get(id);
    if (!p) throw new Error(`no process ${id} (have: ${[...this.#procs.keys()].join(', ')})`);
    return p;
  }

  get processes(): ManagedProcess[] {
    return [...this.#procs.values()];
  }

  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(graceMs).catch(() => p.kill())));
  }

  dumpLogs(linesPerProcess = 200): string {
    return this.processes
      .map(
        (p) =>
          `===== ${p.id} (pid ${p.pid ?? '-'}) log: ${p.options.logFile}\n${p.tail(linesPerProcess)}`,
      )
      .join('\n');
  }
}

/** Writes a failed test's process logs to $BALLAST_FAILED_LOGS_DIR (if set), one file per fleet. */
function saveFailedLogs(fleetDir: string, logs: string): void {
  const dir = process.env.BALLAST_FAILED_LOGS_DIR;
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${basename(fleetDir)}.log`), logs);
  } catch {
    // Diagnostics only: a full disk must not turn into a second failure.
  }
}
