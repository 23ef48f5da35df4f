import { BallastError } from '@ballast/common';
import type { ApplyResult, Command } from '../map/index.js';

/**
 * The engine's control-plane port (`ControlPlane` of @ballast/engine, which owns the interface)
 * over a MetaStore in the same process: the real map logic with no network in between, for
 * tests, simulations and benchmarks. Meta does not import the engine; the shapes below are the
 * port's requests, checked structurally where the engine is given this object.
 */
export interface EngineReplicaReport {
  volumeId: string;
  nodeId: string;
  epoch: number;
  incarnation: number;
}

export interface CommandProposer {
  propose(command: Command): Promise<ApplyResult>;
}

export class DirectControlPlane {
  constructor(
    private readonly store: CommandProposer,
    private readonly clock: () => number = Date.now,
  ) {}

  async markOutOfSync(request: EngineReplicaReport & { reason: string }): Promise<void> {
    await this.commit({
      type: 'markReplicaOutOfSync',
      at: this.clock(),
      volumeId: request.volumeId,
      nodeId: request.nodeId,
      epoch: request.epoch,
      incarnation: request.incarnation,
      reason: request.reason.slice(0, 200),
    });
  }

  async promoteReplica(request: EngineReplicaReport): Promise<void> {
    await this.commit({
      type: 'promoteReplica',
      at: this.clock(),
      volumeId: request.volumeId,
      nodeId: request.nodeId,
      epoch: request.epoch,
      incarnation: request.incarnation,
    });
  }

  private async commit(command: Command): Promise<void> {
    const result = await this.store.propose(command);
    if (!result.ok) {
      throw new BallastError(result.error.code, result.error.message, result.error.details);
    }
  }
}
