// Running the real binaries and talking to the agent's plugin socket, for the CLI's tests.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's bin/ directory (dist/test/helpers -> bin). */
export const binDir = fileURLToPath(new URL('../../../bin/', import.meta.url));
const MiB = 1024 * 1024;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (2 min at most) without colour; never rejects. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
        timeout: 120_000,
        maxBuffer: 16 * MiB,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `ballast ARGS` with this package's binary. */
export function ballast(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return run(process.execPath, [join(binDir, 'ballast.js'), ...args], env);
}

/** One Docker plugin call over the unix socket (POST with a JSON body, as dockerd sends it). */
export function pluginCall(socketPath: string, path: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body) + '\n';
    const req = request(
      {
        socketPath,
        path,
        method: 'POST',
        headers: { 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
