#!/usr/bin/env node
// Removes what torture runs and multi-host tests left behind when they were SIGKILLed (CI's
// clean-up calls it): HostLabs whose creator is gone (their dockerds, containers, mounts,
// cgroups), lab namespaces whose creator is gone, and the fault disks (mounts, loop devices,
// servers) under the given run directories.
//
//   node cleanup.js [RUN_DIR...]
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HostLab, NetLab } from '@ballast/testkit';
import { FaultDisk } from '../fault-disk/index.js';

// HostLabs first: their processes are found through namespaces NetLab.removeStale deletes.
const hostLabs = await HostLab.removeStale();
const labs = await NetLab.removeStale();
let disks = 0;
for (const dir of process.argv.slice(2)) {
  const root = join(dir, 'disks');
  if (!existsSync(root)) continue;
  for (const name of readdirSync(root)) {
    await FaultDisk.removeStale(join(root, name));
    disks++;
  }
}
process.stdout.write(
  `removed ${hostLabs} stale host lab(s), ${labs} stale lab(s), checked ${disks} fault disk(s)\n`,
);
