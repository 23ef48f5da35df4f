#!/usr/bin/env node
/**
 * Serves one file or memory device over NBD, for benchmarks and black-box tests:
 *
 *   node packages/nbd/dist/src/serve-cli.js --socket /tmp/disk.sock --file /tmp/disk.img \
 *     [--size 4GiB] [--name disk] [--multi-conn] [--read-only] [--tcp 127.0.0.1:10809]
 *   node packages/nbd/dist/src/serve-cli.js --socket /tmp/disk.sock --memory --size 1GiB
 *
 * Prints one JSON line {"ready":true,...} on stdout once listening; SIGTERM/SIGINT close it.
 * Started with an IPC channel (child_process.fork), it answers {"type":"stats"} messages with
 * the server's counters and the process memory use.
 */
import { parseArgs } from 'node:util';
import { parseSize } from '@ballast/common';
import { serveDevice } from './serve.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      socket: { type: 'string' },
      file: { type: 'string' },
      memory: { type: 'boolean', default: false },
      size: { type: 'string' },
      name: { type: 'string', default: 'disk' },
      'multi-conn': { type: 'boolean', default: false },
      'read-only': { type: 'boolean', default: false },
      tcp: { type: 'string' },
    },
    strict: true,
  });
  if (values.socket === undefined) throw new Error('--socket is required');
  let tcp: { host: string; port: number } | undefined;
  if (values.tcp !== undefined) {
    const match = /^(.*):(\d+)$/.exec(values.tcp);
    if (!match) throw new Error('--tcp wants HOST:PORT');
    tcp = { host: match[1]!, port: Number(match[2]) };
  }
  const running = await serveDevice({
    socketPath: values.socket,
    filePath: values.file,
    memory: values.memory,
    sizeBytes: values.size === undefined ? undefined : parseSize(values.size, '--size'),
    exportName: values.name,
    multiConn: values['multi-conn'],
    readOnly: values['read-only'],
    tcp,
  });
  const shutdown = (): void => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  if (process.send !== undefined) {
    process.on('message', (message: { type?: string }) => {
      if (message?.type === 'stats') {
        process.send!({
          type: 'stats',
          stats: running.server.stats(),
          maxBufferedBytes: running.server.maxBufferedBytes(),
          memory: process.memoryUsage(),
        });
      } else if (message?.type === 'close') {
        shutdown();
      }
    });
    process.on('disconnect', shutdown);
  }
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      pid: process.pid,
      socket: values.socket,
      export: values.name,
      sizeBytes: running.device.sizeBytes,
      tcpPort: running.tcpPort,
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`nbd serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
