import { Command } from 'commander';
import { isBallastError, parseDuration, parseSize } from '@ballast/common';
import type { Settings } from '@ballast/meta';
import { CliError, ExitCode } from '../client.js';
import { formatTable } from '../output.js';
import {
  clientFor,
  outputFormat,
  render,
  withEndpointOptions,
  withOutputOption,
  type View,
} from './shared.js';

type SettingValue = number | boolean;

const settingsView: View<Record<string, SettingValue>> = {
  kind: 'setting',
  data: (s) => s,
  names: (s) => Object.keys(s),
  text: (s) =>
    formatTable(
      ['SETTING', 'VALUE'],
      Object.entries(s).map(([k, v]) => [k, String(v)]),
    ),
};

/**
 * A value from the command line, in the type the setting has now: true/false for a switch, a
 * whole number otherwise; settings in ms also take durations (10m), in bytes also sizes (100MiB).
 */
function parseValue(key: string, text: string, current: SettingValue): SettingValue {
  if (typeof current === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw new CliError(`${key} is true or false, got "${text}"`, ExitCode.USAGE);
  }
  let n: number;
  try {
    n = key.endsWith('Ms')
      ? parseDuration(text, key)
      : key.includes('Bytes')
        ? parseSize(text, key)
        : Number(text);
  } catch (err) {
    if (isBallastError(err)) throw new CliError(err.message, ExitCode.USAGE);
    throw err;
  }
  if (text.trim() === '' || !Number.isSafeInteger(n)) {
    throw new CliError(`${key} is a whole number, got "${text}"`, ExitCode.USAGE);
  }
  return n;
}

export function settingsCommand(): Command {
  const settings = new Command('settings').description(
    'cluster-wide settings: over-provisioning, rebalancing, rebuild bandwidth, replacement grace',
  );

  withOutputOption(
    withEndpointOptions(
      settings
        .command('get [key]')
        .description('show every setting, or the value of one (alone, for scripts)'),
    ),
    ['json', 'yaml', 'name'],
  )
    .addHelpText(
      'after',
      `
Examples:
  ballast settings get
  ballast settings get rebalanceEnabled     # prints true or false
  ballast settings get -o yaml`,
    )
    .action(async (key: string | undefined, _opts: unknown, cmd: Command) => {
      const format = outputFormat(cmd);
      const all = await clientFor(cmd).request<Settings>('GET', '/v1/settings');
      const values = all as unknown as Record<string, SettingValue>;
      if (key === undefined) {
        process.stdout.write(render(settingsView, values, format));
        return;
      }
      if (!(key in values)) {
        throw new CliError(
          `no setting ${key}; the settings are ${Object.keys(values).join(', ')}`,
          ExitCode.USAGE,
        );
      }
      if (format === 'default') process.stdout.write(`${String(values[key])}\n`);
      else process.stdout.write(render(settingsView, { [key]: values[key]! }, format));
    });

  withOutputOption(
    withEndpointOptions(
      settings
        .command('set <key=value...>')
        .description('change the named settings at once (the others keep their values)'),
    ),
    ['json', 'yaml'],
  )
    .addHelpText(
      'after',
      `
Examples:
  ballast settings set rebalanceEnabled=false               # the rebalancing kill switch
  ballast settings set rebuildBandwidthBytesPerSecond=100MiB maxConcurrentMoves=2
  ballast settings set replicaReplacementGraceMs=10m`,
    )
    .action(async (pairs: string[], _opts: unknown, cmd: Command) => {
      const format = outputFormat(cmd);
      const client = clientFor(cmd);
      // The current values say which settings exist and what type each has.
      const current = (await client.request<Settings>('GET', '/v1/settings')) as unknown as Record<
        string,
        SettingValue
      >;
      const patch: Record<string, SettingValue> = {};
      for (const pair of pairs) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new CliError(`expected key=value, got "${pair}"`, ExitCode.USAGE);
        const key = pair.slice(0, eq);
        if (!(key in current)) {
          throw new CliError(
            `no setting ${key}; the settings are ${Object.keys(current).join(', ')}`,
            ExitCode.USAGE,
          );
        }
        patch[key] = parseValue(key, pair.slice(eq + 1), current[key]!);
      }
      const after = await client.request<Record<string, SettingValue>>(
        'PATCH',
        '/v1/settings',
        patch,
      );
      if (format !== 'default') {
        process.stdout.write(render(settingsView, after, format));
        return;
      }
      for (const key of Object.keys(patch)) {
        process.stdout.write(`${key}: ${String(current[key])} -> ${String(after[key])}\n`);
      }
    });

  return settings;
}
