import * as fs from 'node:fs/promises';
import { runChecked } from './exec.js';

export interface MountEntry {
  mountPoint: string;
  source: string;
  fsType: string;
  options: string;
}

/** Bounded reads of procfs: a host has far fewer mounts and processes than this. */
const MAX_MOUNT_LINES = 100_000;
const MAX_PROCESSES = 200_000;

/** Parses /proc/self/mountinfo (fields per proc(5); paths escape space, tab, \n and \\ in octal). */
export async function readMounts(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  const text = await fs.readFile(file, 'utf8');
  const out: MountEntry[] = [];
  for (const line of text.split('\n').slice(0, MAX_MOUNT_LINES)) {
    if (line === '') continue;
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const fields = left.split(' ');
    const tail = right.split(' ');
    if (fields.length < 6 || tail.length < 2) continue;
    out.push({
      mountPoint: unescapeMountPath(fields[4]!),
      source: unescapeMountPath(tail[1]!),
      fsType: tail[0]!,
      options: fields[5]!,
    });
  }
  return out;
}

export function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

export async function mountAt(mountPoint: string): Promise<MountEntry | undefined> {
  const mounts = await readMounts();
  // The last entry wins: it is the one on top when several are stacked on the same path.
  let found: MountEntry | undefined;
  for (const entry of mounts) if (entry.mountPoint === mountPoint) found = entry;
  return found;
}

export interface LoopDevice {
  name: string;
  backFile: string;
}

/** Every configured loop device and its backing file (`losetup --list --json`). */
export async function listLoopDevices(timeoutMs: number): Promise<LoopDevice[]> {
  const result = await runChecked('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'], {
    timeoutMs,
  });
  if (result.stdout.trim() === '') return [];
  const parsed = JSON.parse(result.stdout) as {
    loopdevices?: Array<{ name: string; 'back-file': string | null }>;
  };
  return (parsed.loopdevices ?? []).map((d) => ({
    name: d.name,
    // losetup appends " (deleted)" when the backing file was unlinked.
    backFile: (d['back-file'] ?? '').replace(/ \(deleted\)$/, ''),
  }));
}

export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** Processes whose argv matches; reads /proc/<pid>/cmdline (processes may vanish meanwhile). */
export async function findProcesses(match: (argv: string[]) => boolean): Promise<ProcessInfo[]> {
  const out: ProcessInfo[] = [];
  const entries = (await fs.readdir('/proc'))
    .filter((e) => /^\d+$/.test(e))
    .slice(0, MAX_PROCESSES);
  for (const entry of entries) {
    const argv = await processArgv(Number(entry));
    if (argv !== undefined && argv.length > 0 && match(argv))
      out.push({ pid: Number(entry), argv });
  }
  return out;
}

export async function processArgv(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined; // a kernel thread or a zombie
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** True while the process exists and is not a zombie. */
export async function processAlive(pid: number): Promise<boolean> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Waits (polling, bounded) until the process is gone. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await processAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** SIGTERM, then SIGKILL if still alive after graceMs. Returns when the process is gone. */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  if (!(await processAlive(pid))) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitForExit(pid, graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitForExit(pid, 5_000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}
