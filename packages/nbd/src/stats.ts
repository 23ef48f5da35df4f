import { COMMAND_NAMES, COMMAND_SLOTS, type CommandName } from './protocol.js';

export interface CommandStats {
  ops: number;
  bytes: number;
  errors: number;
}

export interface ExportStats {
  name: string;
  connections: number;
  inFlight: number;
  commands: Record<CommandName, CommandStats>;
}

export interface NbdServerStats {
  connectionsOpen: number;
  connectionsTotal: number;
  /** Connections closed by the server because of a protocol violation, timeout or limit. */
  connectionsRefused: number;
  handshakesCompleted: number;
  exports: ExportStats[];
}

/**
 * Per-export command counters, kept in typed arrays indexed by command type so the hot path
 * does two array increments. Bytes count the lengths of READ, WRITE, TRIM and WRITE_ZEROES.
 */
export class CommandCounters {
  readonly ops = new Float64Array(COMMAND_SLOTS);
  readonly bytes = new Float64Array(COMMAND_SLOTS);
  readonly errors = new Float64Array(COMMAND_SLOTS);
  inFlight = 0;

  static slot(type: number): number {
    return type >= 0 && type < COMMAND_SLOTS - 1 ? type : COMMAND_SLOTS - 1;
  }

  snapshot(): Record<CommandName, CommandStats> {
    const out = {} as Record<CommandName, CommandStats>;
    COMMAND_NAMES.forEach((name, slot) => {
      out[name] = { ops: this.ops[slot]!, bytes: this.bytes[slot]!, errors: this.errors[slot]! };
    });
    return out;
  }
}
