import { createServer } from 'node:net';

// Ports handed out by this process and not yet released: two callers in one test never get the
// same port even though each probe socket is closed before the port is used.
const reserved = new Set<number>();

/**
 * Returns a TCP port that was free on `host` a moment ago. There is an unavoidable window between
 * the probe and the real bind; processes that can bind port 0 themselves and report the port
 * (ballastd's `ready` line does) should prefer that.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (!reserved.has(port)) {
      reserved.add(port);
      return port;
    }
  }
  throw new Error('could not find a free port after 50 attempts');
}

export function releasePort(port: number): void {
  reserved.delete(port);
}
