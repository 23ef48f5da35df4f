import { FileBlockDevice } from './file-device.js';
import { MemoryBlockDevice } from './memory-device.js';
import { NbdServer, type NbdServerOptions } from './server.js';
import type { NbdBlockDevice } from './device-extensions.js';

export interface ServeOptions {
  /** Unix socket to listen on. */
  socketPath: string;
  /** Also listen on TCP (host:port, port 0 for any). */
  tcp?: { host: string; port: number };
  /** Export name; it is also the listener's default export (the empty name reaches it). */
  exportName?: string;
  /** Serve this file (FileBlockDevice) ... */
  filePath?: string;
  /** ... with this size (extends or creates the file), or a memory device of this size. */
  sizeBytes?: number;
  /** Serve a MemoryBlockDevice instead of a file. */
  memory?: boolean;
  readOnly?: boolean;
  multiConn?: boolean;
  server?: NbdServerOptions;
}

export interface RunningServe {
  server: NbdServer;
  device: NbdBlockDevice;
  tcpPort: number | undefined;
  close(): Promise<void>;
}

/**
 * Starts an NbdServer with one export on a unix socket (and optionally TCP): the helper the
 * bench harness and the tests use to put a FileBlockDevice or MemoryBlockDevice on the wire.
 */
export async function serveDevice(options: ServeOptions): Promise<RunningServe> {
  const name = options.exportName ?? 'disk';
  let device: NbdBlockDevice;
  if (options.memory) {
    if (options.sizeBytes === undefined) throw new Error('a memory device needs sizeBytes');
    device = new MemoryBlockDevice(options.sizeBytes);
  } else {
    if (options.filePath === undefined) throw new Error('filePath or memory is required');
    device = await FileBlockDevice.open(options.filePath, {
      sizeBytes: options.sizeBytes,
      create: options.sizeBytes !== undefined && !options.readOnly,
      readOnly: options.readOnly,
    });
  }
  const server = new NbdServer(options.server);
  try {
    server.addExport(name, device, {
      readOnly: options.readOnly,
      multiConn: options.multiConn,
      description: options.memory ? 'memory device' : `file ${options.filePath}`,
    });
    await server.listenUnix(options.socketPath, { defaultExport: name });
    let tcpPort: number | undefined;
    if (options.tcp !== undefined) {
      const address = await server.listenTcp({ ...options.tcp, defaultExport: name });
      tcpPort = address.port;
    }
    return {
      server,
      device,
      tcpPort,
      close: async () => {
        await server.close();
        await device.close();
      },
    };
  } catch (err) {
    await server.close();
    await device.close();
    throw err;
  }
}
