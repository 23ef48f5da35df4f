#!/usr/bin/env node
/**
 * The per-volume NBD relay process (see relay-process.ts for how the agent runs it):
 *
 *   node relay-main.js --listen <relay.sock> --target-file <target.json> --export <name>
 *     --pidfile <relay.pid> [--hold-ms 60000]
 *
 * It serves export <name> on --listen and forwards every request to the export named in
 * target.json ({"socketPath":..., "exportName":...}), holding requests while that export is
 * away (an agent restart) and replaying them when it is back. It runs in its own session, so it
 * outlives the agent; SIGTERM makes it drain and exit.
 */
import * as fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createLogger } from '@ballast/common';
import { NbdServer } from '@ballast/nbd';
import { writeFileAtomic } from '../atomic-file.js';
import { ReconnectingNbdDevice, type UpstreamTarget } from './reconnecting-device.js';

const START_TIMEOUT_MS = 30_000;

async function readTarget(file: string): Promise<UpstreamTarget> {
  const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<UpstreamTarget>;
  if (typeof parsed.socketPath !== 'string' || typeof parsed.exportName !== 'string') {
    throw new Error(`${file}: expected {"socketPath":"...","exportName":"..."}`);
  }
  return { socketPath: parsed.socketPath, exportName: parsed.exportName };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      'target-file': { type: 'string' },
      export: { type: 'string' },
      pidfile: { type: 'string' },
      'hold-ms': { type: 'string', default: '60000' },
    },
    strict: true,
  });
  const listen = values.listen;
  const targetFile = values['target-file'];
  const exportName = values.export;
  const pidfile = values.pidfile;
  const holdMs = Number(values['hold-ms']);
  if (!listen || !targetFile || !exportName || !pidfile || !(holdMs > 0)) {
    throw new Error(
      'usage: relay-main --listen SOCK --target-file FILE --export NAME --pidfile FILE',
    );
  }
  const log = createLogger({ name: `agent/relay/${exportName}`, destination: 2, pretty: false });
  const device = await ReconnectingNbdDevice.open(
    { target: () => readTarget(targetFile), holdMs, logger: log },
    START_TIMEOUT_MS,
  );
  const server = new NbdServer({ logger: log });
  // One upstream connection carries every front connection's requests, so a FLUSH on any front
  // connection covers writes acknowledged on all of them: multi-conn is honest here.
  server.addExport(exportName, device, {
    description: `ballast relay for ${exportName}`,
    multiConn: true,
  });
  await server.listenUnix(listen, { exports: [exportName], defaultExport: exportName });
  await writeFileAtomic(
    pidfile,
    `${JSON.stringify({ pid: process.pid, listen, export: exportName, startedAt: new Date().toISOString() })}\n`,
  );
  log.info({ listen, sizeBytes: device.sizeBytes }, 'relay ready');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'relay stopping');
    const hardStop = setTimeout(() => process.exit(1), 20_000);
    hardStop.unref();
    void (async () => {
      await server.close();
      await device.close();
      await fs.rm(pidfile, { force: true });
      log.flush();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // The agent's terminal going away must not take the relay with it.
  process.on('SIGHUP', () => {});
}

main().catch((err: unknown) => {
  process.stderr.write(`relay failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
