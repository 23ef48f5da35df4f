import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { BallastError } from '@ballast/common';

/**
 * Listens on a unix socket with `mode`, created without group or other access first so no other
 * user can connect in the window before the chmod. A socket file a dead process left behind is
 * removed; one that a live process answers is an error (two agents on one socket).
 */
export async function listenUnixHttp(
  server: http.Server,
  socketPath: string,
  mode: number,
): Promise<void> {
  await fsp.mkdir(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  await removeStaleSocket(socketPath);
  const oldUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldUmask);
  }
  fs.chmodSync(socketPath, mode);
}

/** Stops listening, closes every connection (idle keep-alive ones too) and removes the socket. */
export async function closeUnixHttp(server: http.Server, socketPath: string): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await fsp.rm(socketPath, { force: true });
}

/** A socket file left by a dead process is removed; one that a live process answers is an error. */
export async function removeStaleSocket(socketPath: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fsp.lstat(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) {
    throw new BallastError('CONFLICT', `${socketPath} exists and is not a socket`);
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) {
    throw new BallastError('CONFLICT', `${socketPath} is in use by another running process`);
  }
  await fsp.rm(socketPath, { force: true });
}

/**
 * Reads a request body of at most `maxBytes` and parses it as a JSON object ({} when empty).
 * Rejects INVALID_ARGUMENT for anything else and TOO_LARGE (as INVALID_ARGUMENT with
 * details.tooLarge) past the bound, after which the caller closes the connection.
 */
export function readJsonBody(
  req: http.IncomingMessage,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        reject(
          new BallastError('INVALID_ARGUMENT', `request body larger than ${maxBytes} bytes`, {
            tooLarge: true,
          }),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve({});
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        reject(new BallastError('INVALID_ARGUMENT', 'request body is not valid JSON'));
        return;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        reject(new BallastError('INVALID_ARGUMENT', 'request body must be a JSON object'));
        return;
      }
      resolve(parsed as Record<string, unknown>);
    });
  });
}
