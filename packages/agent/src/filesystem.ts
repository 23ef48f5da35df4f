import { BallastError } from '@ballast/common';
import type { FilesystemType } from './backend.js';
import { runChecked, runCommand } from './exec.js';

export interface ProbeResult {
  /** Filesystem type (TYPE=) when one is found. */
  type?: string | undefined;
  /** Anything at all was recognised: a filesystem, a partition table, a RAID member... */
  hasSignature: boolean;
  raw: Record<string, string>;
}

/**
 * Low-level probe of the device itself (`blkid -p`, bypassing blkid's cache). Exit 2 means
 * nothing recognised; 8 (ambivalent: several signatures) counts as "something is there".
 */
export async function probeDevice(device: string, timeoutMs: number): Promise<ProbeResult> {
  const result = await runCommand('blkid', ['-p', '-o', 'export', device], { timeoutMs });
  if (result.code === 2) return { hasSignature: false, raw: {} };
  if (result.code === 8) {
    return { hasSignature: true, raw: { AMBIVALENT: 'true' } };
  }
  if (result.code !== 0) {
    throw new BallastError(
      'IO',
      `blkid -p ${device} failed (exit ${result.code ?? result.signal}): ${result.stderr.trim()}`,
    );
  }
  const raw: Record<string, string> = {};
  for (const line of result.stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) raw[line.slice(0, at)] = line.slice(at + 1);
  }
  return { type: raw.TYPE, hasSignature: true, raw };
}

/**
 * Makes a filesystem on a device that a probe just found empty. Neither tool gets a force flag:
 * mke2fs asks before overwriting a filesystem it finds (and stdin is empty, so it declines) and
 * mkfs.xfs refuses without -f, a second guard behind the probe.
 *
 * No discard at mkfs time (-E nodiscard, -K): volumes start zeroed (thin), and a whole-device
 * discard through NBD costs time inside Docker's mount budget. ext4's inode tables and journal
 * are initialised lazily for the same reason; that is safe because the device reads back zeroes.
 */
export async function makeFilesystem(
  device: string,
  fs: FilesystemType,
  timeoutMs: number,
): Promise<void> {
  if (fs === 'ext4') {
    await runChecked(
      'mkfs.ext4',
      ['-q', '-E', 'nodiscard,lazy_itable_init=1,lazy_journal_init=1', device],
      { timeoutMs },
    );
  } else {
    await runChecked('mkfs.xfs', ['-q', '-K', device], { timeoutMs });
  }
}

export function mountOptions(fsType: string): string {
  // noatime: no write per read. errors=remount-ro: an I/O error stops writes instead of
  // carrying on over a damaged filesystem (xfs shuts down on its own).
  return fsType === 'ext4' ? 'noatime,errors=remount-ro' : 'noatime';
}

export async function mountFilesystem(
  device: string,
  fsType: string,
  mountPoint: string,
  timeoutMs: number,
): Promise<void> {
  await runChecked('mount', ['-t', fsType, '-o', mountOptions(fsType), device, mountPoint], {
    timeoutMs,
  });
}

/**
 * Grows an unmounted ext4 filesystem to its device when the volume was resized since it was
 * made. Offline, because online ext4 growth (EXT4_IOC_RESIZE_FS) is refused on some kernels
 * (this machine's answers EPERM even for root). e2fsck -f first, as resize2fs demands; exit 1
 * means it fixed something and is fine, anything above is left alone (no resize). Returns
 * whether it grew.
 */
export async function growExt4Offline(device: string, timeoutMs: number): Promise<boolean> {
  const header = await runChecked('dumpe2fs', ['-h', device], { timeoutMs });
  const blockCount = Number(/^Block count:\s+(\d+)$/m.exec(header.stdout)?.[1]);
  const blockSize = Number(/^Block size:\s+(\d+)$/m.exec(header.stdout)?.[1]);
  const device64 = await runChecked('blockdev', ['--getsize64', device], { timeoutMs });
  const deviceBytes = Number(device64.stdout.trim());
  if (!(blockCount > 0 && blockSize > 0 && deviceBytes > 0)) {
    throw new BallastError('IO', `cannot read the size of the ext4 filesystem on ${device}`);
  }
  // Less than one block of difference is nothing to grow into.
  if (deviceBytes - blockCount * blockSize < blockSize) return false;
  await runChecked('e2fsck', ['-f', '-p', device], { timeoutMs, okCodes: [0, 1] });
  await runChecked('resize2fs', [device], { timeoutMs });
  return true;
}

/** Grows a mounted xfs filesystem to its device (xfs grows only online); a no-op when it fills it. */
export async function growXfsOnline(mountPoint: string, timeoutMs: number): Promise<void> {
  await runChecked('xfs_growfs', [mountPoint], { timeoutMs });
}

export async function unmountFilesystem(mountPoint: string, timeoutMs: number): Promise<void> {
  await runChecked('umount', [mountPoint], { timeoutMs });
}
