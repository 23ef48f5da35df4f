import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ManagedProcess } from './managed-process.js';

export type Role = 'meta' | 'node' | 'agent';

/** Endpoints a ballastd process announces in its `ready` log line. */
export interface ReadyEndpoints {
  [name: string]: string;
}

/**
 * Path of the compiled `ballastd` entry point. Resolved at run time rather than imported, because
 * the `ballast` package (which owns the binaries) itself depends on this testkit for `dev up`.
 */
export function ballastdPath(): string {
  const fromEnv = process.env.BALLASTD_BIN;
  if (fromEnv) return fromEnv;
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('ballast/package.json');
  const bin = join(dirname(pkg), 'dist', 'src', 'bin', 'ballastd.js');
  if (!existsSync(bin))
    throw new Error(`ballastd is not built (${bin} missing): run npm run build`);
  return bin;
}

export interface BallastdProcessOptions {
  role: Role;
  id: string;
  /** Flags after `ballastd <role>`. */
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  detached?: boolean;
  readyTimeoutMs?: number;
  /**
   * A command that runs the process inside something (e.g. `nsenter --net=/run/netns/X --` to
   * put it in a network namespace); it must exec the process, so the pid stays the process's.
   */
  prefix?: readonly string[];
}

/**
 * A `ballastd <role>` process that is ready when it logs `{"msg":"ready","endpoints":{...}}`.
 * Unless detached, it also gets BALLAST_PARENT_PID so that it exits by itself if the test process
 * dies without cleaning up (SIGKILLed runner, crashed test).
 */
export function ballastdProcess(options: BallastdProcessOptions): ManagedProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, BALLAST_LOG_PRETTY: 'false' };
  if (options.detached) delete env.BALLAST_PARENT_PID;
  else env.BALLAST_PARENT_PID = String(process.pid);
  Object.assign(env, options.env);
  const prefix = options.prefix ?? [];
  return new ManagedProcess({
    id: options.id,
    command: prefix.length > 0 ? prefix[0]! : process.execPath,
    args: [
      ...(prefix.length > 0 ? [...prefix.slice(1), process.execPath] : []),
      '--enable-source-maps',
      // Node flags NODE_OPTIONS refuses (e.g. --cpu-prof), for profiling a dev cluster.
      ...(process.env.BALLASTD_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
      ballastdPath(),
      options.role,
      ...options.args,
    ],
    env,
    logFile: options.logFile,
    detached: options.detached ?? false,
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    readyWhen: (_line, json) =>
      json && json.msg === 'ready' && typeof json.endpoints === 'object'
        ? (json.endpoints as ReadyEndpoints)
        : undefined,
  });
}
