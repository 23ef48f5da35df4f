#!/usr/bin/env node
import chalk from 'chalk';
import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from '../client.js';
import { clusterCommand } from '../commands/cluster.js';
import { devCommand } from '../commands/dev.js';
import { nodeCommand } from '../commands/node.js';
import { taskCommand } from '../commands/task.js';
import { volumeCommand } from '../commands/volume.js';
import { VERSION } from '../version.js';

// Output piped into a reader that stops early (`ballast volume inspect x | head`): the rest is
// not wanted, which is no error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(ExitCode.OK);
    throw err;
  });
}

const program = new Command('ballast')
  .description(
    'Administer a Ballast cluster: volumes, storage nodes, tasks, members, and local dev clusters.',
  )
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .showSuggestionAfterError(true)
  .exitOverride()
  .addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 cluster unavailable,
            6 unauthorized, 7 invalid input.`,
  );

for (const cmd of [volumeCommand(), nodeCommand(), taskCommand(), clusterCommand(), devCommand()]) {
  program.addCommand(cmd);
}

// Commander's own exit handling must not swallow our exit codes.
function applyExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) applyExitOverride(sub);
}
applyExitOverride(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
  }
  if (err instanceof CliError) {
    process.stderr.write(`${chalk.red('error:')} ${err.message}\n`);
    if (err.hint) process.stderr.write(`${chalk.dim('hint:')} ${err.hint}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`${chalk.red('error:')} ${(err as Error).stack ?? String(err)}\n`);
  process.exit(ExitCode.FAILURE);
}
