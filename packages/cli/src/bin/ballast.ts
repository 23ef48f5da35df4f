#!/usr/bin/env node
import chalk from 'chalk';
import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from '../client.js';
import { clusterCommand } from '../commands/cluster.js';
import { completionCommand } from '../commands/completion.js';
import { devCommand } from '../commands/dev.js';
import { hostCommand } from '../commands/host.js';
import { nodeCommand } from '../commands/node.js';
import { replicaCommand } from '../commands/replica.js';
import { snapshotCommand } from '../commands/snapshot.js';
import { settingsCommand } from '../commands/settings.js';
import { checkOutputOption } from '../commands/shared.js';
import { taskCommand } from '../commands/task.js';
import { versionCommand } from '../commands/version.js';
import { addSnapshotAttachCommands, volumeCommand } from '../commands/volume.js';
import { applyNoColor } from '../output.js';
import { VERSION } from '../version.js';

applyNoColor();

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
Examples:
  ballast dev up --dir /tmp/c1 && export BALLAST_CLUSTER=/tmp/c1/cluster.json
  ballast volume create pgdata --size 10GiB
  ballast volume ls -o wide
  ballast node ls --watch
  source <(ballast completion bash)

Lists and inspect take -o json|yaml|wide|name; deleting, removing, draining and forcing ask
first on a terminal (-y/--yes skips; without a terminal, --yes is required). NO_COLOR=1 turns
colour off.

Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 cluster unavailable,
            6 unauthorized, 7 invalid input.`,
  )
  // A bad -o stops the command before it sends anything.
  .hook('preAction', (_program, actionCommand) => checkOutputOption(actionCommand));

function withSnapshotAttach(snapshot: Command): Command {
  addSnapshotAttachCommands(snapshot);
  return snapshot;
}

for (const cmd of [
  volumeCommand(),
  replicaCommand(),
  withSnapshotAttach(snapshotCommand()),
  nodeCommand(),
  hostCommand(),
  taskCommand(),
  clusterCommand(),
  settingsCommand(),
  versionCommand(),
  completionCommand(() => program),
  devCommand(),
]) {
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
