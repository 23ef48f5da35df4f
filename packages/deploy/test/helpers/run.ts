import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Output kept per stream: enough for any error message, bounded for chatty builds. */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/**
 * Runs a command to completion in its own process group, killed (the whole group) after
 * `timeoutMs`. Never throws for a non-zero exit: callers assert on `code`.
 */
export function run(
  command: string,
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < MAX_OUTPUT_BYTES) stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < MAX_OUTPUT_BYTES) stderr += d.toString();
    });
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${err.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** True when `command` is on the PATH. */
export async function commandExists(command: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${command}`], { timeoutMs: 10_000 })).code === 0;
}

/** The `ballast` CLI's entry point (the workspace package `ballast`). */
export function ballastCli(): string {
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('ballast/package.json')), 'bin', 'ballast.js');
  if (!existsSync(join(dirname(bin), '..', 'dist', 'src', 'bin', 'ballast.js'))) {
    throw new Error('the ballast CLI is not built: run npm run build');
  }
  return bin;
}

export interface PluginReply {
  status: number;
  body: Record<string, unknown>;
}

/** One Docker volume plugin call over the agent's unix socket, as dockerd makes it. */
export function pluginCall(
  socketPath: string,
  method: string,
  body: unknown,
  timeoutMs = 120_000,
): Promise<PluginReply> {
  const payload = Buffer.from(`${JSON.stringify(body)}\n`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method: 'POST',
        path: `/${method}`,
        headers: {
          'content-length': payload.length,
          accept: 'application/vnd.docker.plugins.v1.2+json',
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as PluginReply['body'] });
          } catch {
            reject(new Error(`${method}: not JSON (${res.statusCode}): ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(prefix)))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

/**
 * Undoes what a failed test may leave under `dir`: loop devices backed by files there, mounts
 * (lazily), and processes whose command line names it (nbdfuse, relays, ballastd). Best effort.
 * Loop devices go first: once the FUSE mount behind one is lazily unmounted its backing file
 * reads as a bare `/nbd`, no longer under `dir`, and the device would be left attached for good.
 * Detaching one that a filesystem still uses only marks it to go when that is unmounted.
 */
export async function cleanUpUnder(dir: string): Promise<void> {
  const loops = await run('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'], {
    timeoutMs: 20_000,
  });
  if (loops.code === 0 && loops.stdout.trim() !== '') {
    const parsed = JSON.parse(loops.stdout) as {
      loopdevices?: Array<{ name: string; 'back-file': string | null }>;
    };
    for (const loop of parsed.loopdevices ?? []) {
      if (loop['back-file']?.startsWith(dir)) {
        await run('losetup', ['--detach', loop.name], { timeoutMs: 20_000 });
      }
    }
  }
  for (const pid of pidsNaming(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  for (const mountPoint of mountsUnder(dir)) {
    await run('umount', ['-l', mountPoint], { timeoutMs: 20_000 });
  }
}

function pidsNaming(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) out.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
