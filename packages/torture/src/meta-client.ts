import { request } from 'node:http';
import type { ClusterFile } from 'ballast';
import type { MetaCaller } from '@ballast/testkit';

/** Meta's REST API as the torture run uses it: by member id, with a bound on every call. */
export class MetaRest implements MetaCaller {
  private readonly urls: Map<string, string>;

  constructor(
    private readonly file: ClusterFile,
    private readonly timeoutMs = 10_000,
  ) {
    this.urls = new Map(file.meta.map((m) => [m.id, m.api]));
  }

  ids(): string[] {
    return [...this.urls.keys()];
  }

  async call(
    target: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const base = this.urls.get(target);
    if (base === undefined) throw new Error(`no meta member ${target}`);
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.file.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed };
  }

  /** A GET answered 200 by the first member that answers, in random order. */
  async get<T>(path: string, rng: () => number = Math.random): Promise<T> {
    const ids = this.ids().sort(() => rng() - 0.5);
    let last: unknown;
    for (const id of ids) {
      try {
        const r = await this.call(id, 'GET', path);
        if (r.status === 200) return r.body as T;
        last = new Error(`${id}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      } catch (err) {
        last = err;
      }
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  /** A write (POST/PATCH/DELETE) through members in turn until one answers other than 503. */
  async send(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    let last: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      for (const id of this.ids()) {
        try {
          const r = await this.call(id, method, path, body);
          if (r.status !== 503 && r.status !== 504) return r;
          last = new Error(`${id}: HTTP ${r.status}`);
        } catch (err) {
          last = err;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw last instanceof Error ? last : new Error(String(last));
  }
}

/** One call to the agent's admin API over its unix socket. */
export function agentCall(
  socketPath: string,
  method: string,
  path: string,
  body: unknown,
  timeoutMs = 120_000,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body ?? {});
    const req = request(
      {
        socketPath,
        path,
        method,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text) as Record<string, unknown>,
            });
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
