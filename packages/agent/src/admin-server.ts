import * as http from 'node:http';
import { BallastError, isBallastError, type ErrorCode } from '@ballast/common';
import { checkVolumeName } from './backend.js';
import { SILENT_LOGGER, errorText, type AgentLogger } from './logger.js';
import type { MountManager } from './mount-manager.js';
import type { NbdAttachments } from './nbd-attachments.js';
import { closeUnixHttp, listenUnixHttp, readJsonBody } from './unix-http.js';

export interface AdminServerOptions {
  /** Default <stateDir>/agent.sock. */
  socketPath: string;
  host: string;
  backendKind: string;
  attachments: NbdAttachments;
  mounts: MountManager;
  pluginSocket: string;
  /**
   * Names of the volumes in the cluster map as the agent last followed it (what Docker's lookups
   * answer from while meta does not answer); undefined before the map was read, or for backends
   * without a map.
   */
  lastKnownVolumes?: () => string[] | undefined;
  logger?: AgentLogger;
  maxBodyBytes?: number;
}

type Route = (
  params: Record<string, string>,
  body: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

interface RouteEntry {
  method: 'GET' | 'POST';
  pattern: RegExp;
  names: string[];
  handler: Route;
}

/** HTTP status for each error code the admin API answers with. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FENCED: 409,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
};

/**
 * The agent's admin API, for `ballast volume attach|detach` on this host: JSON over HTTP/1.1 on
 * a unix socket of its own (not the Docker plugin socket, whose protocol stays exactly Docker's).
 * Access control is the socket's: mode 0600, owned by the agent's user (root), in the agent's
 * 0700 state directory, so only root on this host can call it. No token: whoever can open the
 * socket is root on the host and could read the volumes' devices anyway.
 *
 *   GET  /v1/status                     host, backend, raw attachments, plugin mounts
 *   GET  /v1/attachments                {items: [attachment]}
 *   POST /v1/volumes/NAME/attach        {"force"?: true} -> attachment + alreadyAttached
 *   POST /v1/volumes/NAME/detach        {"force"?: true} -> what was detached
 *   GET  /v1/snapshots                  {items: [snapshot served read-only]}
 *   POST /v1/volumes/NAME/snapshots/SNAP/attach   serve the snapshot read-only -> its URI
 *   POST /v1/volumes/NAME/snapshots/SNAP/detach   stop serving it -> {detached}
 *
 * Errors: {code, message, details} with 400/404/409/503/504/500 by code (BallastError codes).
 */
export class AdminServer {
  private readonly routes: RouteEntry[];
  private readonly logger: AgentLogger;
  private readonly maxBodyBytes: number;

  private constructor(
    private readonly options: AdminServerOptions,
    private readonly server: http.Server,
  ) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024;
    this.routes = [
      route('GET', '/v1/status', [], async () => this.status()),
      route('GET', '/v1/attachments', [], async () => ({
        items: this.options.attachments.list(),
      })),
      route('POST', '/v1/volumes/:name/attach', ['force'], async (p, b) => ({
        ...(await this.options.attachments.attach(volumeParam(p), { force: flag(b, 'force') })),
      })),
      route('POST', '/v1/volumes/:name/detach', ['force'], async (p, b) => ({
        ...(await this.options.attachments.detach(volumeParam(p), { force: flag(b, 'force') })),
      })),
      route('GET', '/v1/snapshots', [], async () => ({
        items: this.options.attachments.listSnapshots(),
      })),
      route('POST', '/v1/volumes/:name/snapshots/:snapshot/attach', [], async (p) => ({
        ...(await this.options.attachments.attachSnapshot(volumeParam(p), snapshotParam(p))),
      })),
      route('POST', '/v1/volumes/:name/snapshots/:snapshot/detach', [], async (p) => ({
        detached: await this.options.attachments.detachSnapshot(
          `${volumeParam(p)}@${snapshotParam(p)}`,
        ),
      })),
    ].map(({ method, path, fields, handler }) => {
      const names: string[] = [];
      const pattern = new RegExp(
        `^${path.replace(/:([a-z]+)/g, (_, name: string) => {
          names.push(name);
          return '([^/]+)';
        })}$`,
      );
      const checked: Route = async (params, body) => {
        const unknown = Object.keys(body).filter((k) => !fields.includes(k));
        if (unknown.length > 0) {
          throw new BallastError(
            'INVALID_ARGUMENT',
            `unknown field(s) ${unknown.join(', ')}; valid: ${fields.join(', ') || 'none'}`,
          );
        }
        return handler(params, body);
      };
      return { method, pattern, names, handler: checked };
    });
  }

  static async start(options: AdminServerOptions): Promise<AdminServer> {
    const server = http.createServer();
    const admin = new AdminServer(options, server);
    server.on('request', (req, res) => admin.handle(req, res));
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 10_000;
    // An attach waits for meta and the replicas (bounded there); leave it room.
    server.requestTimeout = 120_000;
    server.maxHeadersCount = 50;
    await listenUnixHttp(server, options.socketPath, 0o600);
    admin.logger.info({ socketPath: options.socketPath }, 'agent admin API listening');
    return admin;
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  async close(): Promise<void> {
    await closeUnixHttp(this.server, this.options.socketPath);
  }

  private status(): Record<string, unknown> {
    const mounts = this.options.mounts;
    return {
      host: this.options.host,
      backend: this.options.backendKind,
      pluginSocket: this.options.pluginSocket,
      attachMode: mounts.attacherKind,
      nbdTcp: this.options.attachments.tcpEndpoint ?? null,
      attachments: this.options.attachments.list(),
      lastKnownVolumes: this.options.lastKnownVolumes?.() ?? null,
      mounts: mounts.volumes().map((volume) => {
        const s = mounts.status(volume)!;
        return {
          volume,
          phase: s.phase,
          mountPath: s.mountPath,
          mountRefs: s.mountIds,
          device: s.devicePath ?? null,
          since: s.since,
        };
      }),
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = Date.now();
    const url = (req.url ?? '').split('?')[0] ?? '';
    const reply = (status: number, body: Record<string, unknown>): void => {
      const text = `${JSON.stringify(body)}\n`;
      if (!res.headersSent) {
        res.writeHead(status, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(text),
        });
      }
      res.end(text);
      const level = status < 400 ? 'debug' : 'info';
      this.logger[level](
        {
          method: req.method,
          path: url.slice(0, 200),
          status,
          ms: Date.now() - started,
          err: typeof body.message === 'string' && status >= 400 ? body.message : undefined,
        },
        'admin request',
      );
    };
    const fail = (err: unknown): void => {
      if (isBallastError(err)) {
        if (err.details?.tooLarge === true) res.setHeader('Connection', 'close');
        reply(err.details?.tooLarge === true ? 413 : (STATUS[err.code] ?? 500), {
          code: err.code,
          message: err.message,
          details: err.details ?? {},
        });
        if (err.details?.tooLarge === true) req.destroy();
        return;
      }
      this.logger.error({ path: url, err: errorText(err) }, 'admin: unexpected error');
      reply(500, { code: 'INTERNAL', message: errorText(err), details: {} });
    };
    const sameRoute = this.routes.filter((r) => r.pattern.test(url));
    if (sameRoute.length === 0) {
      req.resume();
      fail(new BallastError('NOT_FOUND', `no admin route ${url.slice(0, 200)}`));
      return;
    }
    const entry = sameRoute.find((r) => r.method === req.method);
    if (entry === undefined) {
      req.resume();
      res.setHeader('Allow', sameRoute.map((r) => r.method).join(', '));
      reply(405, {
        code: 'INVALID_ARGUMENT',
        message: `method ${req.method} not allowed on ${url}`,
        details: {},
      });
      return;
    }
    const match = entry.pattern.exec(url)!;
    const params: Record<string, string> = {};
    try {
      entry.names.forEach((name, i) => {
        params[name] = decodeURIComponent(match[i + 1]!);
      });
    } catch {
      req.resume();
      fail(new BallastError('INVALID_ARGUMENT', 'malformed percent-encoding in the path'));
      return;
    }
    readJsonBody(req, this.maxBodyBytes)
      .then((body) => entry.handler(params, body))
      .then((result) => reply(200, result), fail);
  }
}

function route(
  method: 'GET' | 'POST',
  path: string,
  fields: string[],
  handler: Route,
): { method: 'GET' | 'POST'; path: string; fields: string[]; handler: Route } {
  return { method, path, fields, handler };
}

function volumeParam(params: Record<string, string>): string {
  return checkVolumeName(params.name);
}

function snapshotParam(params: Record<string, string>): string {
  return checkVolumeName(params.snapshot);
}

function flag(body: Record<string, unknown>, name: string): boolean {
  const value = body[name];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new BallastError('INVALID_ARGUMENT', `${name} must be true or false`);
  }
  return value;
}
