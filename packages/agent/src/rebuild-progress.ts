import type { RebuildProgressReport } from '@ballast/engine';
import type { MetaClient } from '@ballast/meta-client';
import { errorText, type AgentLogger } from './logger.js';

/** At most one progress report per task this often (each is a Raft entry). */
const REPORT_INTERVAL_MS = 2_000;

interface TaskSummary {
  id: string;
  kind: string;
  nodeId: string | null;
  finishedAt: number | null;
}

/**
 * Posts an engine-driven rebuild's progress to its task in meta (`POST /v1/tasks/:id/progress`),
 * so `/v1/tasks`, `ballast task watch` and the CLI's progress bars show attached volumes'
 * rebuilds as they show node-driven ones. The task is the open `rebuild` task of (volume, node)
 * that meta made with the replica; the total is what this pass has to copy (a delta rebuild
 * copies far less than the volume's size, which the task starts with). Best effort: a report
 * that fails is logged at debug and the next one carries the newer figures; meta finishes the
 * task itself when the replica is promoted.
 */
export class RebuildProgressReporter {
  private taskId: string | null | undefined;
  private lastReportMs = 0;
  private sending: Promise<void> | undefined;
  private latest: RebuildProgressReport | undefined;

  constructor(
    private readonly client: MetaClient,
    private readonly volumeId: string,
    private readonly nodeId: string,
    private readonly logger: AgentLogger,
  ) {}

  /** For RebuildOptions.onProgress: keeps the newest figures, sends at most every 2 s. */
  readonly onProgress = (progress: RebuildProgressReport): void => {
    this.latest = progress;
    const now = Date.now();
    if (this.sending !== undefined || now - this.lastReportMs < REPORT_INTERVAL_MS) return;
    this.lastReportMs = now;
    this.sending = this.send().finally(() => (this.sending = undefined));
  };

  /** Waits for a report in flight (the rebuild ended). */
  async settle(): Promise<void> {
    await this.sending;
  }

  private async send(): Promise<void> {
    const progress = this.latest;
    if (progress === undefined) return;
    try {
      const taskId = await this.findTask();
      if (taskId === null) return;
      const doneBytes = progress.bytesCopied;
      const totalBytes = doneBytes + progress.remainingChunks * progress.chunkSizeBytes;
      await this.client.post(
        `/v1/tasks/${encodeURIComponent(taskId)}/progress`,
        {
          doneBytes,
          totalBytes,
          message: `engine rebuild: ${progress.chunksCopied} chunks copied, ${progress.remainingChunks} to go`,
        },
        { timeoutMs: 5_000 },
      );
    } catch (err) {
      this.logger.debug(
        { volumeId: this.volumeId, nodeId: this.nodeId, err: errorText(err) },
        'rebuild progress not reported',
      );
    }
  }

  private async findTask(): Promise<string | null> {
    if (this.taskId !== undefined) return this.taskId;
    const { items } = await this.client.list<TaskSummary>(
      `/v1/tasks?volume=${encodeURIComponent(this.volumeId)}`,
    );
    const task = items.find(
      (t) => t.kind === 'rebuild' && t.nodeId === this.nodeId && t.finishedAt === null,
    );
    this.taskId = task?.id ?? null;
    return this.taskId;
  }
}
