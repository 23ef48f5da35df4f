import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fsp from 'node:fs/promises';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Output kept per stream: the tools run here print little; this only guards memory. */
const MAX_CAPTURE_BYTES = 256 * 1024;
/** After the program exits, how long its output pipes may stay open (a lingering grandchild). */
const DRAIN_MS = 1_000;

/**
 * Runs a program asynchronously with a hard time limit, never throwing for a non-zero exit.
 * Never spawnSync: the NBD server a command goes through may share this event loop in tests.
 */
export function runCommand(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      // Own process group, so a timeout kills whatever the program started as well.
      child = spawn(command, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
        detached: true,
      });
    } catch (err) {
      resolve({ code: null, signal: null, stdout: '', stderr: (err as Error).message });
      return;
    }
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_CAPTURE_BYTES) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_CAPTURE_BYTES) stderr += d;
    });
    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (result: CommandResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      finish({
        code: null,
        signal: 'SIGKILL',
        stdout,
        stderr: `${stderr}\n(killed after ${timeoutMs} ms)`.trim(),
      });
    }, timeoutMs);
    child.on('error', (err) => finish({ code: null, signal: null, stdout, stderr: err.message }));
    child.on('exit', (code, signal) => {
      drainTimer = setTimeout(() => finish({ code, signal, stdout, stderr }), DRAIN_MS);
    });
    child.on('close', (code, signal) => finish({ code, signal, stdout, stderr }));
    child.stdin.on('error', () => {
      // The program may exit without reading its input.
    });
    child.stdin.end();
  });
}

/** Like runCommand, but an exit code outside okCodes throws with the command's stderr. */
export async function runChecked(
  command: string,
  args: string[],
  timeoutMs: number,
  okCodes: number[] = [0],
): Promise<CommandResult> {
  const result = await runCommand(command, args, timeoutMs);
  if (result.code === null || !okCodes.includes(result.code)) {
    throw new Error(`${[command, ...args].join(' ')} failed: ${describeResult(result)}`);
  }
  return result;
}

export function describeResult(result: CommandResult): string {
  const why = result.code === null ? `killed (${result.signal})` : `exit ${result.code}`;
  const text = (result.stderr.trim() || result.stdout.trim()).slice(0, 2000);
  return text ? `${why}: ${text}` : why;
}

export interface MountEntry {
  mountPoint: string;
  source: string;
  fsType: string;
  /** major:minor of the mounted filesystem; for FUSE the minor is the connection number. */
  device: string;
}

/** Mounts from /proc/self/mountinfo (proc(5); paths escape space, tab, \n and \\ in octal). */
export async function readMounts(): Promise<MountEntry[]> {
  const text = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const tail = right.split(' ');
    if (fields.length < 6 || tail.length < 2) continue;
    out.push({
      mountPoint: unescapeMountPath(fields[4]!),
      source: unescapeMountPath(tail[1]!),
      fsType: tail[0]!,
      device: fields[2]!,
    });
  }
  return out;
}

function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** The topmost mount at this path, if any. */
export async function mountAt(mountPoint: string): Promise<MountEntry | undefined> {
  let found: MountEntry | undefined;
  for (const entry of await readMounts()) if (entry.mountPoint === mountPoint) found = entry;
  return found;
}

export interface LoopDevice {
  name: string;
  backFile: string;
  /** The loop driver reads and writes its file with O_DIRECT. */
  directIo: boolean;
}

export async function listLoopDevices(timeoutMs: number): Promise<LoopDevice[]> {
  const result = await runChecked(
    'losetup',
    ['--list', '--json', '--output', 'NAME,BACK-FILE,DIO'],
    timeoutMs,
  );
  if (result.stdout.trim() === '') return [];
  const parsed = JSON.parse(result.stdout) as {
    loopdevices?: Array<{ name: string; 'back-file': string | null; dio: boolean | string }>;
  };
  return (parsed.loopdevices ?? []).map((d) => ({
    name: d.name,
    // losetup appends " (deleted)" when the backing file was unlinked.
    backFile: (d['back-file'] ?? '').replace(/ \(deleted\)$/, ''),
    directIo: d.dio === true || d.dio === '1',
  }));
}

/** True while the process exists and is not a zombie. */
export async function processAlive(pid: number): Promise<boolean> {
  try {
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function processArgv(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** Processes (not zombies) whose command line mentions `text`; bounded by /proc's size. */
export async function processesMentioning(text: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = await processArgv(Number(entry));
    if (argv?.some((a) => a.includes(text)) && (await processAlive(Number(entry)))) {
      out.push(Number(entry));
    }
  }
  return out;
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await processAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** SIGTERM, then SIGKILL after graceMs; returns whether the process is gone. */
export async function terminate(pid: number, graceMs: number): Promise<boolean> {
  if (!(await processAlive(pid))) return true;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return true;
  }
  if (await waitForExit(pid, graceMs)) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return true;
  }
  return waitForExit(pid, 5_000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await fsp.access(path);
    return true;
  } catch {
    return false;
  }
}
