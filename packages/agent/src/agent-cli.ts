#!/usr/bin/env node
/**
 * Runs the agent on its own, for tests and single-host dev use (ballastd agent is the product
 * entry point and calls startAgent the same way):
 *
 *   node packages/agent/dist/src/agent-cli.js --id h1 --state-dir /var/lib/ballast/agent \
 *     [--run-dir /run/ballast/h1] [--plugin-socket /run/docker/plugins/ballast.sock] \
 *     [--mount-root DIR] [--ops-listen 127.0.0.1:0] [--no-relay] [--attach-mode auto] \
 *     [--admin-socket PATH] [--nbd-listen 127.0.0.1:10809] \
 *     [--meta URL,URL --cluster-id ID [--token-file F] [--data-plane-secret-file F]
 *      [--data-plane-tls-ca CA.pem]]
 *
 * Without --meta it runs the single-host LocalFileBackend. With --meta it runs the cluster
 * backend; the token and the data-plane secret come from files or from the environment
 * (BALLAST_TOKEN, BALLAST_DATA_PLANE_SECRET), never from argv, which other users can read.
 *
 * Prints one JSON line {"ready":true,...} on stdout when serving. SIGTERM/SIGINT stop it and
 * leave mounts in place; with --unmount-on-exit they are torn down first.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '@ballast/common';
import { startAgent } from './agent.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      id: { type: 'string', default: 'local' },
      'state-dir': { type: 'string' },
      'run-dir': { type: 'string' },
      'plugin-socket': { type: 'string', default: '/run/docker/plugins/ballast.sock' },
      'mount-root': { type: 'string' },
      'ops-listen': { type: 'string' },
      'attach-mode': { type: 'string', default: 'auto' },
      'no-relay': { type: 'boolean', default: false },
      'relay-hold-ms': { type: 'string' },
      'unmount-on-exit': { type: 'boolean', default: false },
      'admin-socket': { type: 'string' },
      'nbd-listen': { type: 'string' },
      'max-nbd-attachments': { type: 'string' },
      meta: { type: 'string' },
      'cluster-id': { type: 'string' },
      'token-file': { type: 'string' },
      'data-plane-secret-file': { type: 'string' },
      /** Nodes serve the data plane over TLS: verify them against this CA (PEM file). */
      'data-plane-tls-ca': { type: 'string' },
      'log-level': { type: 'string', default: process.env.BALLAST_LOG_LEVEL ?? 'info' },
    },
    strict: true,
  });
  if (values['state-dir'] === undefined) throw new Error('--state-dir is required');
  const mode = values['attach-mode'];
  if (mode !== 'auto' && mode !== 'nbd-client' && mode !== 'nbdfuse-loop') {
    throw new Error('--attach-mode is auto, nbd-client or nbdfuse-loop');
  }
  const log = createLogger({
    name: `agent/${values.id}`,
    level: values['log-level'],
    destination: 2,
    pretty: false,
  });
  const agent = await startAgent(
    {
      id: values.id,
      stateDir: values['state-dir'],
      runDir: values['run-dir'],
      pluginSocket: values['plugin-socket'],
      mountRoot: values['mount-root'],
      opsListen: values['ops-listen'],
      meta: (values.meta ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter((u) => u !== ''),
      token: process.env.BALLAST_TOKEN,
      tokenFile: values['token-file'],
      clusterId: values['cluster-id'],
      dataPlaneSecret: process.env.BALLAST_DATA_PLANE_SECRET,
      dataPlaneSecretFile: values['data-plane-secret-file'],
      dataPlaneTlsCa: values['data-plane-tls-ca'],
      adminSocket: values['admin-socket'],
      nbdListen: values['nbd-listen'],
      maxNbdAttachments:
        values['max-nbd-attachments'] === undefined
          ? undefined
          : Number(values['max-nbd-attachments']),
      attachMode: mode,
      relay: !values['no-relay'],
      relayHoldMs:
        values['relay-hold-ms'] === undefined ? undefined : Number(values['relay-hold-ms']),
    },
    log,
  );
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      if (values['unmount-on-exit']) await agent.mounts.unmountAll();
      await agent.close();
      log.flush();
      process.exit(0);
    })().catch((err: unknown) => {
      process.stderr.write(`agent stop failed: ${String(err)}\n`);
      process.exit(1);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      pid: process.pid,
      ...agent.endpoints,
      recovery: agent.recovery,
      attachments: agent.attachmentRecovery,
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`agent failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
