import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface OpsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** Readiness probe: resolves true when the process serves its purpose (e.g. joined the cluster). */
  ready?: () => boolean;
}

export interface OpsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** A registry with Node's default process metrics, labelled with the process role and id. */
export function createMetricsRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'ballast_process_' });
  return registry;
}

/**
 * The small HTTP server every ballastd process exposes for operations: `/healthz` (alive),
 * `/readyz` (ready to serve) and `/metrics` (Prometheus). Processes with a richer API (meta)
 * serve the same paths there too.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/problem+json', allow: 'GET, HEAD' });
      res.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Method Not Allowed',
          status: 405,
          code: 'INVALID_ARGUMENT',
        }),
      );
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    } else if (path === '/readyz') {
      const ready = options.ready ? options.ready() : true;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ready }));
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(err.message);
        },
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(
        JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, code: 'NOT_FOUND' }),
      );
    }
  });
  // A slow or idle client must not hold the server open forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Parses `host:port` (or `[v6]:port`), as used by every `--listen`-style setting. */
export function parseHostPort(text: string, setting = 'address'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new Error(`${setting}: expected host:port, got "${text}"`);
  }
  return { host: (m[1] ?? m[2])!, port };
}
