/**
 * What the agent tells meta, with its host heartbeat, of the engines of its attached volumes
 * that are not plainly serving (D22): failed and waiting for the next reopen attempt, being
 * reopened, or reopened a short while ago. Meta's leader keeps the last list per host and
 * `ballast volume inspect` explains the volume with it.
 */

/** meta's MAX_ENGINE_REPORTS: the most one heartbeat carries (failing engines go first). */
export const MAX_ENGINE_REPORTS = 32;
/** meta's MAX_ENGINE_REPORT_TEXT: longer reasons are clipped. */
export const MAX_ENGINE_REPORT_TEXT = 256;
/** A reopened engine is reported this long after, so an operator who looks later still sees it. */
export const RECOVERED_REPORT_MS = 15 * 60_000;

/** A failed engine, from its failure until it is reopened (or the volume leaves this host). */
export interface EngineFailure {
  failedAtMs: number;
  /** The failed engine's epoch. */
  epoch: number;
  reason: string;
  /** Reopen attempts started so far (including one running now). */
  attempts: number;
  /** When the next attempt is due; undefined while one runs or when no more will be made. */
  nextAttemptAtMs: number | undefined;
  attempting: boolean;
  /** Why the last attempt did not reopen the engine. */
  lastError: string | undefined;
}

/** The last reopening of a failed engine. */
export interface EngineRecovery {
  failedAtMs: number;
  epoch: number;
  reason: string;
  attempts: number;
  recoveredAtMs: number;
  recoveredEpoch: number;
}

/** One entry of the heartbeat's `engines` (meta's EngineReportSchema). */
export interface EngineReport {
  volumeId: string;
  state: 'failed' | 'recovering' | 'recovered';
  epoch: number;
  reason: string;
  failedAgoMs: number;
  attempts: number;
  nextAttemptInMs?: number;
  lastError?: string;
  recoveredAgoMs?: number;
  recoveredEpoch?: number;
}

export interface EngineCondition {
  volumeId: string;
  failure: EngineFailure | undefined;
  recovered: EngineRecovery | undefined;
}

function clip(text: string): string {
  const t = text.length > 0 ? text : 'unknown';
  return t.length <= MAX_ENGINE_REPORT_TEXT ? t : `${t.slice(0, MAX_ENGINE_REPORT_TEXT - 3)}...`;
}

/** meta bounds ages to a year and the next attempt to an hour; the agent never comes near. */
const MAX_AGE_MS = 365 * 24 * 3_600_000;
const MAX_NEXT_MS = 3_600_000;
const age = (nowMs: number, atMs: number): number =>
  Math.min(MAX_AGE_MS, Math.max(0, nowMs - atMs));

/**
 * The reports for a heartbeat: failing engines (longest failed first), then engines reopened
 * less than RECOVERED_REPORT_MS ago (latest first), at most MAX_ENGINE_REPORTS. Pure.
 */
export function engineReports(volumes: Iterable<EngineCondition>, nowMs: number): EngineReport[] {
  const failing: Array<[number, EngineReport]> = [];
  const recovered: Array<[number, EngineReport]> = [];
  for (const { volumeId, failure: f, recovered: r } of volumes) {
    if (f !== undefined) {
      const report: EngineReport = {
        volumeId,
        state: f.attempting ? 'recovering' : 'failed',
        epoch: f.epoch,
        reason: clip(f.reason),
        failedAgoMs: age(nowMs, f.failedAtMs),
        attempts: f.attempts,
      };
      if (!f.attempting && f.nextAttemptAtMs !== undefined) {
        report.nextAttemptInMs = Math.min(MAX_NEXT_MS, Math.max(0, f.nextAttemptAtMs - nowMs));
      }
      if (f.lastError !== undefined) report.lastError = clip(f.lastError);
      failing.push([f.failedAtMs, report]);
    } else if (r !== undefined && nowMs - r.recoveredAtMs < RECOVERED_REPORT_MS) {
      const recoveredAgoMs = age(nowMs, r.recoveredAtMs);
      recovered.push([
        r.recoveredAtMs,
        {
          volumeId,
          state: 'recovered',
          epoch: r.epoch,
          reason: clip(r.reason),
          // Never before the reopening, whatever the clock did in between.
          failedAgoMs: Math.max(recoveredAgoMs, age(nowMs, r.failedAtMs)),
          attempts: r.attempts,
          recoveredAgoMs,
          recoveredEpoch: r.recoveredEpoch,
        },
      ]);
    }
  }
  failing.sort((a, b) => a[0] - b[0]);
  recovered.sort((a, b) => b[0] - a[0]);
  return [...failing, ...recovered].slice(0, MAX_ENGINE_REPORTS).map(([, report]) => report);
}
