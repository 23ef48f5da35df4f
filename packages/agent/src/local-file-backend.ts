import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { BallastError, assert, formatSize } from '@ballast/common';
import { FileBlockDevice, NbdServer } from '@ballast/nbd';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import {
  checkVolumeName,
  specsEqual,
  type AttachOptions,
  type DetachOptions,
  type DetachResult,
  type VolumeAttachment,
  type VolumeBackend,
  type VolumeInfo,
  type VolumeSpec,
} from './backend.js';
import { KeyedLock } from './lock.js';
import { volumeSocketPath } from './socket-path.js';
import { SILENT_LOGGER, errorText, type AgentLogger } from './logger.js';

export interface LocalFileBackendOptions {
  /** Holds catalogue.json and images/<name>.img. */
  dataDir: string;
  /** Export sockets go to <runDir>/nbd/<name>.sock. */
  runDir: string;
  logger?: AgentLogger;
  /** Bound on the catalogue (default 4096 volumes). */
  maxVolumes?: number;
}

interface CatalogueEntry {
  spec: VolumeSpec;
  createdAt: string;
  attachment?: { host: string; since: string };
}

interface Catalogue {
  version: 1;
  volumes: Record<string, CatalogueEntry>;
}

interface LiveExport {
  server: NbdServer;
  device: FileBlockDevice;
  host: string;
}

const CATALOGUE_LOCK = 'catalogue';

/**
 * A single-host volume backend with NO replication: each volume is a sparse file on this host,
 * listed in a JSON catalogue, and an attached volume is served by @ballast/nbd's NbdServer
 * (FileBlockDevice) on a unix socket. It exists for tests and for a single-host dev mode; data
 * lives on one disk and dies with it. The cluster backend (meta + replicating engine) replaces
 * it in real deployments behind the same VolumeBackend interface.
 *
 * Export sockets have a stable path per volume, so a relay that outlives the agent finds the
 * export again after the agent restarts.
 */
export class LocalFileBackend implements VolumeBackend {
  readonly kind = 'local-file';
  private readonly lock = new KeyedLock();
  private readonly live = new Map<string, LiveExport>();
  private readonly logger: AgentLogger;
  private readonly maxVolumes: number;
  private closed = false;

  private constructor(
    private readonly options: LocalFileBackendOptions,
    private catalogue: Catalogue,
  ) {
    this.logger = options.logger ?? SILENT_LOGGER;
    this.maxVolumes = options.maxVolumes ?? 4096;
  }

  static async open(options: LocalFileBackendOptions): Promise<LocalFileBackend> {
    await fs.mkdir(path.join(options.dataDir, 'images'), { recursive: true, mode: 0o700 });
    await fs.mkdir(path.join(options.runDir, 'nbd'), { recursive: true, mode: 0o700 });
    const file = path.join(options.dataDir, 'catalogue.json');
    const raw = await readJsonFile(file);
    let catalogue: Catalogue = { version: 1, volumes: {} };
    if (raw !== undefined) {
      const parsed = raw as Partial<Catalogue>;
      if (parsed.version !== 1 || typeof parsed.volumes !== 'object' || parsed.volumes === null) {
        throw new BallastError(
          'CONFIG',
          `${file} is not a Ballast local-file catalogue (version 1)`,
        );
      }
      catalogue = parsed as Catalogue;
    }
    return new LocalFileBackend(options, catalogue);
  }

  imagePath(name: string): string {
    return path.join(this.options.dataDir, 'images', `${name}.img`);
  }

  exportSocketPath(name: string): string {
    return volumeSocketPath(path.join(this.options.runDir, 'nbd'), name);
  }

  async create(name: string, spec: VolumeSpec): Promise<VolumeInfo> {
    checkVolumeName(name);
    if (spec.fromSnapshot !== undefined) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        'from-snapshot: the local-file backend has no snapshots; clones need a cluster (--meta)',
      );
    }
    if (
      !Number.isSafeInteger(spec.sizeBytes) ||
      spec.sizeBytes <= 0 ||
      spec.sizeBytes % 4096 !== 0
    ) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        `size ${spec.sizeBytes} must be a positive multiple of 4096`,
      );
    }
    return this.lock.run(CATALOGUE_LOCK, async () => {
      this.checkOpen();
      const existing = this.catalogue.volumes[name];
      if (existing !== undefined) {
        if (!specsEqual(existing.spec, spec)) {
          throw new BallastError(
            'CONFLICT',
            `volume ${name} already exists with other options (size ${formatSize(existing.spec.sizeBytes)}, ` +
              `replicas ${existing.spec.replicas}, fs ${existing.spec.fs})`,
            { name },
          );
        }
        return this.info(name, existing);
      }
      if (Object.keys(this.catalogue.volumes).length >= this.maxVolumes) {
        throw new BallastError(
          'INVALID_ARGUMENT',
          `this backend holds at most ${this.maxVolumes} volumes`,
        );
      }
      // 'w' truncates: an image left behind by a crash between removing the catalogue entry and
      // unlinking the file must not leak old data into a new volume of the same name.
      const handle = await fs.open(this.imagePath(name), 'w', 0o600);
      try {
        await handle.truncate(spec.sizeBytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      const entry: CatalogueEntry = {
        spec: { ...spec, labels: { ...spec.labels } },
        createdAt: new Date().toISOString(),
      };
      this.catalogue.volumes[name] = entry;
      try {
        await this.save();
      } catch (err) {
        delete this.catalogue.volumes[name];
        await fs.rm(this.imagePath(name), { force: true });
        throw err;
      }
      this.logger.info({ volume: name, sizeBytes: spec.sizeBytes }, 'local-file: volume created');
      return this.info(name, entry);
    });
  }

  async remove(name: string): Promise<void> {
    checkVolumeName(name);
    await this.lock.run(CATALOGUE_LOCK, async () => {
      this.checkOpen();
      const entry = this.entry(name);
      if (entry.attachment !== undefined) {
        throw new BallastError(
          'CONFLICT',
          `volume ${name} is attached to host ${entry.attachment.host}; unmount it there first`,
          { name, host: entry.attachment.host },
        );
      }
      delete this.catalogue.volumes[name];
      await this.save();
      await fs.rm(this.imagePath(name), { force: true });
      this.logger.info({ volume: name }, 'local-file: volume removed');
    });
  }

  async get(name: string): Promise<VolumeInfo> {
    checkVolumeName(name);
    const entry = this.entry(name);
    return this.info(name, entry);
  }

  async list(): Promise<VolumeInfo[]> {
    const out: VolumeInfo[] = [];
    for (const [name, entry] of Object.entries(this.catalogue.volumes)) {
      out.push(await this.info(name, entry));
    }
    return out;
  }

  async attach(name: string, options: AttachOptions): Promise<VolumeAttachment> {
    checkVolumeName(name);
    return this.lock.run(CATALOGUE_LOCK, async () => {
      this.checkOpen();
      const entry = this.entry(name);
      if (this.live.has(name)) {
        throw new BallastError('CONFLICT', `volume ${name} is already attached by this process`, {
          name,
          host: this.live.get(name)!.host,
        });
      }
      const holder = entry.attachment?.host;
      if (holder !== undefined && holder !== options.host && options.force !== true) {
        throw new BallastError(
          'CONFLICT',
          `volume ${name} is attached to host ${holder}; detach it there or force the attach`,
          { name, host: holder },
        );
      }
      const device = await FileBlockDevice.open(this.imagePath(name));
      assert(
        device.sizeBytes === entry.spec.sizeBytes,
        `image of ${name} has the catalogue's size`,
      );
      const server = new NbdServer({ logger: this.logger });
      const socketPath = this.exportSocketPath(name);
      try {
        server.addExport(name, device, { description: `ballast volume ${name}`, multiConn: true });
        await server.listenUnix(socketPath, { exports: [name], defaultExport: name });
        entry.attachment = { host: options.host, since: new Date().toISOString() };
        await this.save();
      } catch (err) {
        await server.close();
        await device.close();
        throw err;
      }
      const live: LiveExport = { server, device, host: options.host };
      this.live.set(name, live);
      this.logger.info({ volume: name, host: options.host, socketPath }, 'local-file: attached');
      let released: Promise<void> | undefined;
      return {
        exportSocketPath: socketPath,
        exportName: name,
        sizeBytes: device.sizeBytes,
        fs: entry.spec.fs,
        device,
        release: () => (released ??= this.release(name, live)),
      };
    });
  }

  async detach(name: string, options: DetachOptions): Promise<DetachResult> {
    checkVolumeName(name);
    return this.lock.run(CATALOGUE_LOCK, async () => {
      this.checkOpen();
      const entry = this.entry(name);
      if (this.live.has(name)) {
        throw new BallastError(
          'CONFLICT',
          `volume ${name} is served by this process; release its attachment instead`,
          { name, host: this.live.get(name)!.host },
        );
      }
      const holder = entry.attachment?.host;
      if (holder === undefined) return { previousHost: undefined };
      if (holder !== options.host && options.force !== true) {
        throw new BallastError(
          'CONFLICT',
          `volume ${name} is attached to host ${holder}; detach it there or force the detach`,
          { name, host: holder },
        );
      }
      delete entry.attachment;
      await this.save();
      this.logger.info({ volume: name, previousHost: holder }, 'local-file: detached');
      return { previousHost: holder };
    });
  }

  async close(): Promise<void> {
    await this.lock.run(CATALOGUE_LOCK, async () => {
      if (this.closed) return;
      this.closed = true;
      for (const [name, live] of this.live) {
        await this.stopServing(name, live);
      }
      this.live.clear();
    });
  }

  private async release(name: string, live: LiveExport): Promise<void> {
    await this.lock.run(CATALOGUE_LOCK, async () => {
      if (this.live.get(name) !== live) return; // closed by close() already; attachment stays
      this.live.delete(name);
      await this.stopServing(name, live);
      const entry = this.catalogue.volumes[name];
      if (entry?.attachment?.host === live.host) {
        delete entry.attachment;
        await this.save();
      }
      this.logger.info({ volume: name }, 'local-file: released');
    });
  }

  private async stopServing(name: string, live: LiveExport): Promise<void> {
    try {
      await live.server.close();
    } catch (err) {
      this.logger.warn({ volume: name, err: errorText(err) }, 'local-file: closing export failed');
    }
    await live.device.flush();
    await live.device.close();
  }

  private entry(name: string): CatalogueEntry {
    const entry = this.catalogue.volumes[name];
    if (entry === undefined) {
      throw new BallastError('NOT_FOUND', `no volume named ${name}`, { name });
    }
    return entry;
  }

  private async info(name: string, entry: CatalogueEntry): Promise<VolumeInfo> {
    let allocatedBytes: number | undefined;
    try {
      allocatedBytes = (await fs.stat(this.imagePath(name))).blocks * 512;
    } catch {
      allocatedBytes = undefined;
    }
    return {
      name,
      spec: { ...entry.spec, labels: { ...entry.spec.labels } },
      createdAt: entry.createdAt,
      attachment: entry.attachment === undefined ? undefined : { ...entry.attachment },
      status: {
        backend: this.kind,
        replication: 'none (single-host local-file backend; replicas is recorded, not applied)',
        image: this.imagePath(name),
        allocatedBytes,
      },
    };
  }

  private async save(): Promise<void> {
    await writeFileAtomic(
      path.join(this.options.dataDir, 'catalogue.json'),
      `${JSON.stringify(this.catalogue, null, 2)}\n`,
    );
  }

  private checkOpen(): void {
    if (this.closed) throw new BallastError('UNAVAILABLE', 'the volume backend is closed');
  }
}
