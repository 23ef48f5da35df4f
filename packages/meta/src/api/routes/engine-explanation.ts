import type { VolumeRecord } from '../../map/index.js';
import type { EngineReport } from '../liveness.js';
import type { EngineView, HostView, VolumeExplanation } from '../schemas.js';

/** The parts of a volume's explanation that come from its holder's engine report. */
export interface EngineExplanation {
  engine: EngineView;
  /** failed/recovering: what the explanation's state and reason become; undefined: the map's. */
  state?: { state: 'failed' | 'recovering'; stateReason: string };
  events: VolumeExplanation['events'];
  next: VolumeExplanation['next'];
  actions: string[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * What the agent holding a volume said of its engine (D22), in the words of `volume inspect`:
 * the failure as an event, the agent's next reopen attempt as what happens next (with the time
 * it is due), and what the operator can do. A reopened engine is a past event. Pure: the
 * holder's liveness says whether the report is still the agent's word or the last it said.
 */
export function explainEngine(
  volume: VolumeRecord,
  report: EngineReport,
  holder: HostView,
): EngineExplanation {
  const host = holder.id;
  const engine: EngineView = {
    host,
    state: report.state,
    epoch: report.epoch,
    reason: report.reason,
    failedAt: report.failedAt,
    attempts: report.attempts,
    nextAttemptAt: report.nextAttemptAt,
    lastError: report.lastError,
    recoveredAt: report.recoveredAt,
    recoveredEpoch: report.recoveredEpoch,
    reportedAt: report.reportedAt,
  };
  const failedText = `the engine on host ${host} failed at epoch ${report.epoch}: ${report.reason}`;
  const events: VolumeExplanation['events'] = [{ at: report.failedAt, text: failedText }];
  if (report.state === 'recovered') {
    events.push({
      at: report.recoveredAt,
      text: `the agent on ${host} reopened the engine at epoch ${report.recoveredEpoch ?? '?'} after ${plural(report.attempts, 'attempt')}; I/O goes on (requests made while it was failed got EIO)`,
    });
    return {
      engine,
      events,
      next: [],
      actions: [
        `applications using ${volume.name} on ${host} got I/O errors while the engine was failed: check them (a file system that saw write errors may have remounted read-only; stop the containers and start them again to mount it afresh)`,
      ],
    };
  }

  // The agent's word is its last heartbeat's; a silent agent may have stopped trying.
  const silence = holder.alive
    ? ''
    : ` (as the agent reported ${seconds(holder.silentMs)} ago; it has been silent since and is presumed dead)`;
  const lastError = report.lastError === null ? '' : `; the last attempt: ${report.lastError}`;
  const next: VolumeExplanation['next'] =
    report.state === 'recovering'
      ? [
          {
            loop: 'engine',
            text: `the agent on ${host} is reopening the engine at a new epoch now (attempt ${report.attempts})${silence}`,
            until: null,
          },
        ]
      : [
          {
            loop: 'engine',
            text: `the agent on ${host} reopens the engine at a new epoch, retrying with backoff (1s doubling to 30s) while the volume is attached there: ${plural(report.attempts, 'attempt')} so far${lastError}; attempt ${report.attempts + 1} is due${silence}`,
            until: report.nextAttemptAt,
          },
        ];
  const stateReason =
    report.state === 'recovering'
      ? `${failedText}; the agent is reopening it at a new epoch (attempt ${report.attempts})${silence}`
      : `${failedText}; I/O gets EIO until the agent reopens it at a new epoch (${plural(report.attempts, 'attempt')} so far)${silence}`;

  const inSync = volume.replicas.filter((r) => r.role === 'in-sync').map((r) => r.nodeId);
  const actions: string[] = [];
  if (inSync.length > 0) {
    actions.push(
      `check the ${inSync.length === 1 ? 'node' : 'nodes'} holding its in-sync ${inSync.length === 1 ? 'replica' : 'replicas'} (the agent reopens the engine by itself once one answers): ${inSync.map((id) => `\`ballast node inspect ${id}\``).join(', ')}`,
    );
  }
  if (!holder.alive) {
    actions.push(`check the agent on ${host}: \`ballast host inspect ${host}\``);
  }
  actions.push(
    `to stop the attempts and give the volume back, release it on ${host}: stop the containers using it, or \`ballast volume detach ${volume.name} --host ${host}\``,
  );
  return {
    engine,
    state: {
      state: report.state,
      stateReason: `${stateReason}; the map has the volume ${volume.state}: ${volume.stateReason}`,
    },
    events,
    next,
    actions,
  };
}
