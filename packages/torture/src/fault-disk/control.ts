import * as http from 'node:http';
import type { NbdServerStats } from '@ballast/nbd';
import type {
  FailRange,
  FaultOps,
  FaultyDeviceStats,
  PowerCutOptions,
  PowerCutResult,
} from './faulty-device.js';

/**
 * The fault-disk server's control channel: HTTP/1.1 with JSON bodies on a unix socket.
 *
 *   POST /power-cut {keepFraction?, seed?}    -> PowerCutResult
 *   POST /revive                              -> {}
 *   POST /fail {ranges: FailRange[]} | {all: 'read'|'write'|'all'} -> {}
 *   POST /clear                               -> {}
 *   GET  /stats                               -> FaultDiskServerStats
 *
 * Errors come back as a non-2xx status with {error}.
 */
export interface FaultDiskServerStats {
  device: FaultyDeviceStats;
  nbd: NbdServerStats;
}

export type FailRequest = { ranges: FailRange[] } | { all: FaultOps };

/** Control bodies are tiny; anything larger is refused rather than buffered. */
export const MAX_CONTROL_BODY_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

export class ControlClient {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  powerCut(options: PowerCutOptions = {}): Promise<PowerCutResult> {
    return this.call<PowerCutResult>('POST', '/power-cut', options);
  }

  async revive(): Promise<void> {
    await this.call('POST', '/revive', {});
  }

  async fail(request: FailRequest): Promise<void> {
    await this.call('POST', '/fail', request);
  }

  async clear(): Promise<void> {
    await this.call('POST', '/clear', {});
  }

  stats(): Promise<FaultDiskServerStats> {
    return this.call<FaultDiskServerStats>('GET', '/stats');
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const request = http.request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
          // One request per connection: nothing to keep alive across a server restart.
          agent: false,
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            if (text.length < MAX_CONTROL_BODY_BYTES) text += chunk;
          });
          response.on('end', () => {
            let parsed: unknown;
            try {
              parsed = text === '' ? {} : JSON.parse(text);
            } catch {
              reject(new Error(`fault disk ${method} ${path}: bad reply ${text.slice(0, 200)}`));
              return;
            }
            const status = response.statusCode ?? 0;
            if (status < 200 || status >= 300) {
              const why = (parsed as { error?: string }).error ?? text;
              reject(new Error(`fault disk ${method} ${path}: ${status} ${why}`));
              return;
            }
            resolve(parsed as T);
          });
          response.on('error', reject);
        },
      );
      request.setTimeout(this.timeoutMs, () => {
        request.destroy(
          new Error(`fault disk ${method} ${path}: no answer in ${this.timeoutMs} ms`),
        );
      });
      request.on('error', reject);
      request.end(payload);
    });
  }
}
