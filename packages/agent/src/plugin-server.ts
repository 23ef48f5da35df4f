import * as http from 'node:http';
import { BallastError, isBallastError } from '@ballast/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import { checkVolumeName, type VolumeBackend, type VolumeInfo } from './backend.js';
import { SILENT_LOGGER, errorText, type AgentLogger } from './logger.js';
import type { MountManager } from './mount-manager.js';
import {
  DEFAULT_VOLUME,
  describeSpec,
  parseVolumeOptions,
  type VolumeDefaults,
} from './options.js';
import { closeUnixHttp, listenUnixHttp } from './unix-http.js';

export interface PluginServerOptions {
  /** Docker finds a legacy plugin at /run/docker/plugins/<name>.sock; <name> is the driver. */
  socketPath: string;
  /** 0o600 (default, root only) or 0o660. */
  socketMode?: number;
  backend: VolumeBackend;
  mounts: MountManager;
  defaults?: VolumeDefaults;
  logger?: AgentLogger;
  registry?: Registry;
  /** Request bodies above this are refused (Docker's are well under 1 KiB). */
  maxBodyBytes?: number;
}

type Body = Record<string, unknown>;
type Handler = (body: Body) => Promise<Record<string, unknown>>;

/** Docker reads these as the v1 plugin content type; it ignores the value anyway. */
const CONTENT_TYPE = 'application/vnd.docker.plugins.v1.1+json';

/**
 * The Docker volume plugin protocol (protocols.md A) over HTTP/1.1 on a unix socket. Every call
 * is POST /<Service.Method> with a JSON body (Activate's is empty); success answers 200 with a
 * JSON object, never an empty body; failures answer {"Err":"..."} with a non-2xx status: 500
 * for errors of the operation (as docker/go-plugins-helpers does), 400 for a request that is
 * not JSON, 404 for an unknown endpoint. Nothing changes on a refused request.
 */
export class PluginServer {
  private readonly handlers: Map<string, Handler>;
  private readonly logger: AgentLogger;
  private readonly defaults: VolumeDefaults;
  private readonly maxBodyBytes: number;
  private readonly metrics: ReturnType<typeof createMetrics> | undefined;

  private constructor(
    private readonly options: PluginServerOptions,
    private readonly server: http.Server,
  ) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.defaults = options.defaults ?? DEFAULT_VOLUME;
    this.maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
    this.metrics = options.registry ? createMetrics(options.registry) : undefined;
    this.handlers = new Map<string, Handler>([
      ['/Plugin.Activate', async () => ({ Implements: ['VolumeDriver'] })],
      ['/VolumeDriver.Capabilities', async () => ({ Capabilities: { Scope: 'global' } })],
      ['/VolumeDriver.Create', (b) => this.create(b)],
      ['/VolumeDriver.Remove', (b) => this.remove(b)],
      ['/VolumeDriver.Mount', (b) => this.mount(b)],
      ['/VolumeDriver.Unmount', (b) => this.unmount(b)],
      ['/VolumeDriver.Path', (b) => this.path(b)],
      ['/VolumeDriver.Get', (b) => this.get(b)],
      ['/VolumeDriver.List', () => this.list()],
    ]);
  }

  static async start(options: PluginServerOptions): Promise<PluginServer> {
    const server = http.createServer();
    const plugin = new PluginServer(options, server);
    server.on('request', (req, res) => plugin.handle(req, res));
    // Docker keeps connections alive; closing idle ones early only races its next request.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.maxHeadersCount = 100;
    await listenUnixHttp(server, options.socketPath, options.socketMode ?? 0o600);
    plugin.logger.info({ socketPath: options.socketPath }, 'docker volume plugin listening');
    return plugin;
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  async close(): Promise<void> {
    await closeUnixHttp(this.server, this.options.socketPath);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = process.hrtime.bigint();
    const route = (req.url ?? '').split('?')[0] ?? '';
    const handler = this.handlers.get(route);
    const endpoint = handler === undefined ? 'unknown' : route.slice(1);
    const reply = (status: number, body: Record<string, unknown>): void => {
      const text = JSON.stringify(body);
      if (!res.headersSent) {
        res.writeHead(status, {
          'Content-Type': CONTENT_TYPE,
          'Content-Length': Buffer.byteLength(text),
        });
      }
      res.end(text);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const outcome = status === 200 ? 'ok' : 'error';
      this.metrics?.requests.inc({ endpoint, outcome });
      this.metrics?.seconds.observe({ endpoint }, seconds);
      const level = status === 200 ? 'debug' : 'info';
      this.logger[level](
        {
          endpoint: route.slice(0, 100),
          status,
          ms: Math.round(seconds * 1000),
          err: body.Err || undefined,
        },
        'plugin request',
      );
    };
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      reply(405, { Err: `method ${req.method} not allowed; the plugin API uses POST` });
      return;
    }
    if (handler === undefined) {
      req.resume();
      reply(404, { Err: `unknown endpoint ${route.slice(0, 100)}` });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBodyBytes) {
        if (!tooLarge) {
          tooLarge = true;
          // Answer now and stop reading; the connection is closed after the reply.
          res.setHeader('Connection', 'close');
          reply(413, { Err: `request body larger than ${this.maxBodyBytes} bytes` });
          req.destroy();
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      // The client went away (or we destroyed an oversized request); nothing to answer.
    });
    req.on('end', () => {
      if (tooLarge) return;
      let body: Body;
      try {
        body = parseBody(Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        reply(400, { Err: errorText(err) });
        return;
      }
      handler(body).then(
        (result) => reply(200, result),
        (err: unknown) => {
          if (!isBallastError(err)) {
            this.logger.error({ endpoint: route, err: errorText(err) }, 'plugin: unexpected error');
          }
          reply(500, { Err: errorText(err) });
        },
      );
    });
  }

  private async create(body: Body): Promise<Record<string, unknown>> {
    const name = checkVolumeName(body.Name);
    const opts = body.Opts;
    const noOptions =
      opts === undefined ||
      opts === null ||
      (typeof opts === 'object' && !Array.isArray(opts) && Object.keys(opts).length === 0);
    const spec = parseVolumeOptions(opts, this.defaults);
    if (noOptions) {
      // Docker creates volumes implicitly (docker run -v name:/path) with no options: an
      // existing volume of that name is the one meant, whatever its options.
      try {
        await this.options.backend.get(name);
        return { Err: '' };
      } catch (err) {
        if (!isBallastError(err, 'NOT_FOUND')) throw err;
      }
    }
    await this.options.backend.create(name, spec);
    return { Err: '' };
  }

  private async remove(body: Body): Promise<Record<string, unknown>> {
    const name = checkVolumeName(body.Name);
    const here = this.options.mounts.status(name);
    if (here !== undefined) {
      throw new BallastError(
        'CONFLICT',
        `volume ${name} is mounted on this host (${here.mountIds} mount references); stop its containers first`,
      );
    }
    await this.options.backend.remove(name);
    return { Err: '' };
  }

  private async mount(body: Body): Promise<Record<string, unknown>> {
    const name = checkVolumeName(body.Name);
    const mountpoint = await this.options.mounts.mount(name, body.ID as string);
    return { Mountpoint: mountpoint, Err: '' };
  }

  private async unmount(body: Body): Promise<Record<string, unknown>> {
    const name = checkVolumeName(body.Name);
    await this.options.mounts.unmount(name, body.ID as string);
    return { Err: '' };
  }

  // Get, List and Path are lookups dockerd makes all the time (at start for every volume it
  // knows, for `docker volume ls|inspect`, and for any unknown name on every driver): they ask
  // the backend with `fast`, so that a cluster that is gone costs a second, not a timeout.

  private async path(body: Body): Promise<Record<string, unknown>> {
    const name = checkVolumeName(body.Name);
    // Mounted here: this host knows the answer whether or not the cluster does.
    const here = this.options.mounts.mountpoint(name);
    if (here !== undefined) return { Mountpoint: here, Err: '' };
    await this.options.backend.get(name, { fast: true });
    const mountpoint = this.options.mounts.mountpoint(name);
    return mountpoint === undefined ? { Err: '' } : { Mountpoint: mountpoint, Err: '' };
  }

  private async get(body: Body): Promise<Record<string, unknown>> {
    const name = checkVolumeName(body.Name);
    const info = await this.options.backend.get(name, { fast: true });
    return { Volume: this.describe(info, true), Err: '' };
  }

  private async list(): Promise<Record<string, unknown>> {
    const volumes = await this.options.backend.list({ fast: true });
    return { Volumes: volumes.map((info) => this.describe(info, false)), Err: '' };
  }

  private describe(info: VolumeInfo, withStatus: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = { Name: info.name };
    const mountpoint = this.options.mounts.mountpoint(info.name);
    if (mountpoint !== undefined) out.Mountpoint = mountpoint;
    if (!withStatus) return out;
    out.CreatedAt = info.createdAt;
    const here = this.options.mounts.status(info.name);
    out.Status = {
      ...describeSpec(info.spec),
      sizeBytes: info.spec.sizeBytes,
      labels: info.spec.labels,
      attachedTo: info.attachment?.host ?? null,
      attachedSince: info.attachment?.since ?? null,
      mountedHere: here?.phase === 'mounted',
      mountPath: here?.mountPath ?? null,
      mountRefs: here?.mountIds ?? 0,
      device: here?.devicePath ?? null,
      attachPath: here?.attacher ?? this.options.mounts.attacherKind,
      ...(info.status ?? {}),
    };
    return out;
  }
}

function parseBody(text: string): Body {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BallastError('INVALID_ARGUMENT', 'request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BallastError('INVALID_ARGUMENT', 'request body must be a JSON object');
  }
  return parsed as Body;
}

function createMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'ballast_agent_plugin_requests_total',
      help: 'Docker volume plugin requests by endpoint and outcome',
      labelNames: ['endpoint', 'outcome'],
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'ballast_agent_plugin_request_seconds',
      help: 'Docker volume plugin request duration',
      labelNames: ['endpoint'],
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
  };
}
