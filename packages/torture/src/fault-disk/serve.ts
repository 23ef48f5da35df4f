#!/usr/bin/env node
/**
 * Serves one FaultyDevice over NBD on a unix socket and takes fault commands over HTTP on a
 * second unix socket (see control.ts):
 *
 *   node dist/src/fault-disk/serve.js --file disk.img --size 256MiB --socket nbd.sock \
 *     --control control.sock [--name disk] [--no-host-sync]
 *
 * Prints one JSON line {"ready":true,...} on stdout once both sockets listen. SIGTERM/SIGINT
 * close it (bounded). With BALLAST_PARENT_PID set it exits by itself once that process is gone,
 * so a killed test runner does not leave it serving a disk.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { parseArgs } from 'node:util';
import { BallastError, parseSize } from '@ballast/common';
import { NbdServer } from '@ballast/nbd';
import { MAX_CONTROL_BODY_BYTES, type FailRequest, type FaultDiskServerStats } from './control.js';
import {
  FaultyDevice,
  type FailRange,
  type FaultOps,
  type PowerCutOptions,
} from './faulty-device.js';

const PARENT_CHECK_MS = 1_000;
/** NbdServer.close waits up to 2 x closeTimeoutMs; the process exits regardless after this. */
const SHUTDOWN_LIMIT_MS = 10_000;
const NBD_CLOSE_TIMEOUT_MS = 3_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      size: { type: 'string' },
      socket: { type: 'string' },
      control: { type: 'string' },
      name: { type: 'string', default: 'disk' },
      'no-host-sync': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.file === undefined) throw new Error('--file is required');
  if (values.socket === undefined) throw new Error('--socket is required');
  if (values.control === undefined) throw new Error('--control is required');
  const name = values.name;
  const controlPath = values.control;

  const parentPid = Number(process.env.BALLAST_PARENT_PID ?? 0);
  if (parentPid > 0) {
    setInterval(() => {
      try {
        process.kill(parentPid, 0);
      } catch {
        shutdown(`parent ${parentPid} is gone`);
      }
    }, PARENT_CHECK_MS).unref();
  }

  const device = FaultyDevice.open(values.file, {
    sizeBytes: values.size === undefined ? undefined : parseSize(values.size, '--size'),
    create: values.size !== undefined,
    hostSync: !values['no-host-sync'],
  });
  const nbd = new NbdServer({ closeTimeoutMs: NBD_CLOSE_TIMEOUT_MS });
  // Every connection shares the one device and a FLUSH covers all of them, so multi-conn holds.
  const exportOptions = { description: `fault disk ${values.file}`, multiConn: true };
  nbd.addExport(name, device, exportOptions);
  let exported = true;
  await nbd.listenUnix(values.socket, { defaultExport: name });

  const control = http.createServer((request, response) => {
    handle(request)
      .then((body) => reply(response, 200, body))
      .catch((err: unknown) => {
        const status =
          (err as { status?: number }).status ??
          (err instanceof BallastError ? err.httpStatus : 500);
        reply(response, status, { error: err instanceof Error ? err.message : String(err) });
      });
  });
  control.requestTimeout = 30_000;
  control.headersTimeout = 10_000;
  fs.rmSync(controlPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject);
    control.listen(controlPath, () => {
      control.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(controlPath, 0o600);

  async function handle(request: http.IncomingMessage): Promise<unknown> {
    const body = await readJson(request);
    const route = `${request.method} ${request.url}`;
    switch (route) {
      case 'POST /power-cut': {
        const options = body as PowerCutOptions;
        const result = device.powerCut({ keepFraction: options.keepFraction, seed: options.seed });
        // The link goes down with the power: every client is disconnected (requests still
        // running fail, the device is dead), so no connection from before the cut can write
        // after revive. Clients reconnect, as after a real power loss.
        if (exported) {
          exported = false;
          await nbd.removeExport(name);
        }
        log({ event: 'power-cut', ...result });
        return result;
      }
      case 'POST /revive':
        device.revive();
        if (!exported) {
          nbd.addExport(name, device, exportOptions);
          exported = true;
        }
        log({ event: 'revive' });
        return {};
      case 'POST /fail': {
        const request = body as Partial<{ ranges: FailRange[]; all: FaultOps }> & FailRequest;
        if (request.all !== undefined) device.failAll(request.all);
        else if (Array.isArray(request.ranges)) device.failRanges(request.ranges);
        else throw withStatus(new Error('want {ranges: [...]} or {all: ops}'), 400);
        log({ event: 'fail', failures: device.stats().failures.length });
        return {};
      }
      case 'POST /clear':
        device.clearFailures();
        log({ event: 'clear' });
        return {};
      case 'GET /stats':
        return { device: device.stats(), nbd: nbd.stats() } satisfies FaultDiskServerStats;
      default:
        throw withStatus(new Error(`no route ${route}`), 404);
    }
  }

  let stopping = false;
  function shutdown(why: string): void {
    if (stopping) return;
    stopping = true;
    log({ event: 'stopping', why });
    setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS).unref();
    control.close();
    control.closeAllConnections();
    nbd
      .close()
      .then(() => device.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      pid: process.pid,
      socket: values.socket,
      control: controlPath,
      export: name,
      sizeBytes: device.sizeBytes,
    })}\n`,
  );
}

function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

function readJson(request: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_CONTROL_BODY_BYTES) {
        reject(withStatus(new Error('request body too large'), 413));
        request.destroy();
      }
    });
    request.on('end', () => {
      if (text.trim() === '') {
        resolve({});
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(withStatus(new Error('body is not JSON'), 400));
      }
    });
    request.on('error', reject);
  });
}

function reply(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function withStatus(err: Error, status: number): Error {
  return Object.assign(err, { status });
}

main().catch((err: unknown) => {
  process.stderr.write(`fault disk: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
