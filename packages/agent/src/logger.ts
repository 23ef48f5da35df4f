/** The slice of a pino logger the agent uses; tests pass a capturing or silent one. */
export interface AgentLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const SILENT_LOGGER: AgentLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
