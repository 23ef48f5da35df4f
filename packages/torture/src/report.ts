import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Crash } from './supervisor.js';

export interface FaultRecord {
  id: number;
  kind: string;
  targets: string[];
  detail: string;
  startMs: number;
  endMs: number | null;
  /** From the fault's end until every volume was healthy again; null: not within the run. */
  healedMs: number | null;
  error: string | null;
}

export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
}

export interface TortureReport {
  seed: number;
  minutes: number;
  startedAt: string;
  finishedAt?: string;
  dir: string;
  /** The command that runs the same schedule again. */
  replay: string;
  faults: FaultRecord[];
  checks: CheckResult[];
  workloads: Record<string, Record<string, unknown>>;
  stalls?: Array<{ volume: string; atMs: number; ms: number; outcome: string }>;
  crashes: Crash[];
  recoveryMs?: number | null;
  passed: boolean;
  notes: string[];
}

export interface KindSummary {
  kind: string;
  count: number;
  /** The longest write (issue to answer) that overlapped a fault of this kind. */
  maxStallMs: number;
  healedCount: number;
  medianHealMs: number | null;
  maxHealMs: number | null;
}

/** Per fault kind: how many, the longest write stall while one was in force, heal times. */
export function summarise(report: TortureReport): {
  kinds: KindSummary[];
  quietMaxStallMs: number;
} {
  const byKind = new Map<string, FaultRecord[]>();
  for (const f of report.faults) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f]);
  const stalls = report.stalls ?? [];
  const overlapping = (f: FaultRecord, s: { atMs: number; ms: number }): boolean =>
    s.atMs <= (f.endMs ?? Infinity) && s.atMs + s.ms >= f.startMs;
  let quietMaxStallMs = 0;
  for (const s of stalls) {
    if (!report.faults.some((f) => overlapping(f, s))) {
      quietMaxStallMs = Math.max(quietMaxStallMs, s.ms);
    }
  }
  const kinds = [...byKind.entries()]
    .map(([kind, faults]) => {
      let maxStallMs = 0;
      for (const s of stalls) {
        if (faults.some((f) => overlapping(f, s))) maxStallMs = Math.max(maxStallMs, s.ms);
      }
      const heals = faults
        .map((f) => f.healedMs)
        .filter((x): x is number => x !== null)
        .sort((a, b) => a - b);
      return {
        kind,
        count: faults.length,
        maxStallMs,
        healedCount: heals.length,
        medianHealMs: heals.length > 0 ? heals[Math.floor(heals.length / 2)]! : null,
        maxHealMs: heals.length > 0 ? heals[heals.length - 1]! : null,
      };
    })
    .sort((a, b) => (a.kind < b.kind ? -1 : 1));
  return { kinds, quietMaxStallMs };
}

function seconds(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

/** report.json (everything) and report.md (what a user reads first). */
export function writeReport(dir: string, report: TortureReport): void {
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  const { kinds, quietMaxStallMs } = summarise(report);
  const lines: string[] = [];
  lines.push(`# Torture run: ${report.passed ? 'PASSED' : 'FAILED'}`);
  lines.push('');
  lines.push(
    `Seed ${report.seed}, ${report.minutes} min, started ${report.startedAt}, finished ${report.finishedAt ?? '-'}. Replay the schedule: \`${report.replay}\`. Working directory (cluster logs, events.jsonl): \`${report.dir}\`.`,
  );
  lines.push('');
  lines.push('## Checks');
  lines.push('');
  lines.push('| check | result | detail |');
  lines.push('| --- | --- | --- |');
  for (const c of report.checks) {
    lines.push(
      `| ${c.name} | ${c.passed ? 'pass' : '**FAIL**'} | ${c.detail.replace(/\|/g, '\\|')} |`,
    );
  }
  lines.push('');
  lines.push(`## Faults (${report.faults.length} injected)`);
  lines.push('');
  lines.push(
    '| kind | count | longest write stall while in force | heal time median | heal time max | healed |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- |');
  for (const k of kinds) {
    lines.push(
      `| ${k.kind} | ${k.count} | ${seconds(k.maxStallMs)} | ${seconds(k.medianHealMs)} | ${seconds(k.maxHealMs)} | ${k.healedCount}/${k.count} |`,
    );
  }
  lines.push('');
  lines.push(
    `Longest write stall with no fault in force: ${seconds(quietMaxStallMs)}. A write stall is a period without any acknowledged write on a block volume; faults overlap (two streams), so a stall is listed under every kind in force during it. Heal time (faults that take a storage process away; they run one at a time, each on a healthy cluster): from the fault's end until every volume of the workloads was healthy again. Recovery after the last heal: ${seconds(report.recoveryMs)}.`,
  );
  lines.push('');
  lines.push('## Workloads');
  lines.push('');
  for (const [name, w] of Object.entries(report.workloads)) {
    lines.push(
      `- **${name}**: ${Object.entries(w)
        .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(', ')}`,
    );
  }
  if (report.crashes.length > 0) {
    lines.push('');
    lines.push('## Crashes');
    for (const c of report.crashes) {
      lines.push('');
      lines.push(`### ${c.id} at ${seconds(c.atMs)}`);
      lines.push('```');
      lines.push(c.tail);
      lines.push('```');
    }
  }
  if (report.notes.length > 0) {
    lines.push('');
    lines.push('## Notes');
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  lines.push('');
  lines.push('## Timeline');
  lines.push('');
  lines.push('| # | start | end | kind | targets | detail | healed after |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const f of report.faults) {
    lines.push(
      `| ${f.id} | ${seconds(f.startMs)} | ${seconds(f.endMs)} | ${f.kind} | ${f.targets.join(' ')} | ${f.detail}${f.error ? ` (failed: ${f.error})` : ''} | ${seconds(f.healedMs)} |`,
    );
  }
  writeFileSync(join(dir, 'report.md'), lines.join('\n') + '\n');
}
