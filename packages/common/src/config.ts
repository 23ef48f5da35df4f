import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { BallastError } from './errors.js';

export interface ConfigSources {
  /** Values from command-line flags (already camelCased by the CLI library); undefined entries are ignored. */
  flags?: Record<string, unknown>;
  /** Environment to read `BALLAST_*` variables from. */
  env?: NodeJS.ProcessEnv;
  /** Optional JSON config file; its keys are the same camelCase names as the flags. */
  file?: string | undefined;
  /** Environment prefix, `BALLAST_` by default. */
  envPrefix?: string;
}

/** `dataDir` -> `BALLAST_DATA_DIR` */
export function envName(key: string, prefix = 'BALLAST_'): string {
  return prefix + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** `dataDir` -> `--data-dir` */
export function flagName(key: string): string {
  return '--' + key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new Error(`expected key=value, got "${trimmed}"`);
    out[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return out;
}

/** Turns a string from env or flags into the shape the schema asks for (lists, maps); scalars are coerced by ajv. */
function shapeFromString(schema: TSchema, value: string): unknown {
  const type = (schema as { type?: string }).type;
  if (type === 'array') return value === '' ? [] : value.split(',').map((s) => s.trim());
  if (type === 'object') return parseKeyValues(value);
  return value;
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: false });

function describe(err: ErrorObject, prefix: string, schema: TObject): string {
  const key =
    err.instancePath.replace(/^\//, '').split('/')[0] ||
    (err.params as { missingProperty?: string }).missingProperty ||
    '';
  const where = key
    ? `setting "${key}" (${flagName(key)} or ${envName(key, prefix)})`
    : 'configuration';
  if (err.keyword === 'additionalProperties') {
    return `unknown setting "${(err.params as { additionalProperty: string }).additionalProperty}"`;
  }
  // A regular expression means nothing to a user; the schema's description says what is expected.
  const description = (schema.properties[key] as { description?: string } | undefined)?.description;
  if (err.keyword === 'pattern' && description) return `${where} must be ${description}`;
  return `${where} ${err.message ?? 'is invalid'}`;
}

/**
 * Loads configuration with the precedence defaults < file < environment < flags and validates
 * it against `schema`. A bad value is a CONFIG error naming the setting, its flag and its
 * environment variable, so the process can refuse to start with a clear message.
 */
export function loadConfig<T extends TObject>(schema: T, sources: ConfigSources = {}): Static<T> {
  const prefix = sources.envPrefix ?? 'BALLAST_';
  const env = sources.env ?? process.env;
  const merged: Record<string, unknown> = {};
  /** Where each setting came from: 1 the config file, 2 the environment, 3 a flag. */
  const level: Record<string, number> = {};

  if (sources.file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(sources.file, 'utf8'));
    } catch (err) {
      throw new BallastError(
        'CONFIG',
        `cannot read config file ${sources.file}: ${(err as Error).message}`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new BallastError('CONFIG', `config file ${sources.file} must hold a JSON object`);
    }
    Object.assign(merged, parsed);
    for (const key of Object.keys(parsed)) level[key] = 1;
  }

  for (const [key, propSchema] of Object.entries(schema.properties)) {
    const fromEnv = env[envName(key, prefix)];
    if (fromEnv !== undefined) {
      try {
        merged[key] = shapeFromString(propSchema as TSchema, fromEnv);
        level[key] = 2;
      } catch (err) {
        throw new BallastError('CONFIG', `${envName(key, prefix)}: ${(err as Error).message}`);
      }
    }
    const fromFlag = sources.flags?.[key];
    if (fromFlag !== undefined) {
      try {
        merged[key] =
          typeof fromFlag === 'string'
            ? shapeFromString(propSchema as TSchema, fromFlag)
            : fromFlag;
        level[key] = 3;
      } catch (err) {
        throw new BallastError('CONFIG', `${flagName(key)}: ${(err as Error).message}`);
      }
    }
  }
  resolveSecretFiles(schema, merged, level, prefix);

  const validate = ajv.compile(schema);
  if (!validate(merged)) {
    const msgs = (validate.errors ?? []).map((e) => describe(e, prefix, schema));
    throw new BallastError('CONFIG', `invalid configuration: ${[...new Set(msgs)].join('; ')}`, {
      errors: validate.errors,
    });
  }
  return merged as Static<T>;
}

/** Where a setting can be given, for messages: `--join-token-file or BALLAST_JOIN_TOKEN_FILE`. */
function settingNames(key: string, prefix: string): string {
  return `${flagName(key)} or ${envName(key, prefix)}`;
}

/**
 * Secrets from files. A schema property marked `secret: true` (a token, a shared secret) may
 * instead be given as the path of a file holding it, through its sibling property `<key>File`
 * (`--<key>-file`, `BALLAST_<KEY>_FILE`, or `<key>File` in the config file): the way Docker
 * secrets reach a container (`BALLAST_JOIN_TOKEN_FILE=/run/secrets/join_token`), so the secret
 * is not in `docker inspect`'s environment. The file is read here, its one trailing newline
 * dropped, and the secret then stands in the configuration as if given directly (the `<key>File`
 * setting is removed). A missing, unreadable or empty file is a CONFIG error naming the setting
 * and the file. When both are given, the higher source wins (flags > environment > config
 * file); both from the same source is a CONFIG error.
 */
function resolveSecretFiles(
  schema: TObject,
  merged: Record<string, unknown>,
  level: Record<string, number>,
  prefix: string,
): void {
  for (const [key, propSchema] of Object.entries(schema.properties)) {
    if ((propSchema as { secret?: unknown }).secret !== true) continue;
    const fileKey = `${key}File`;
    if (!(fileKey in schema.properties) || merged[fileKey] === undefined) continue;
    const fileLevel = level[fileKey] ?? 0;
    const valueLevel = merged[key] === undefined ? 0 : (level[key] ?? 0);
    const where = settingNames(fileKey, prefix);
    if (valueLevel === fileLevel) {
      throw new BallastError(
        'CONFIG',
        `the secret "${key}" is given twice: set ${settingNames(key, prefix)}, or the file ` +
          `that holds it (${where}), not both`,
      );
    }
    if (valueLevel > fileLevel) {
      delete merged[fileKey];
      continue;
    }
    const file = merged[fileKey];
    if (typeof file !== 'string' || file === '') {
      throw new BallastError('CONFIG', `setting "${fileKey}" (${where}) must be a file path`);
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EACCES'
            ? 'permission denied'
            : code === 'EISDIR'
              ? 'it is a directory'
              : (err as Error).message;
      throw new BallastError(
        'CONFIG',
        `setting "${fileKey}" (${where}): cannot read the ${key} from ${file}: ${why}`,
      );
    }
    const secret = text.replace(/\r?\n$/, '');
    if (secret.trim() === '') {
      throw new BallastError(
        'CONFIG',
        `setting "${fileKey}" (${where}): ${file} is empty; it must hold the ${key}`,
      );
    }
    const minLength = (propSchema as { minLength?: number }).minLength;
    if (minLength !== undefined && secret.length < minLength) {
      throw new BallastError(
        'CONFIG',
        `setting "${fileKey}" (${where}): the ${key} in ${file} has ${secret.length} ` +
          `characters; it must have at least ${minLength}`,
      );
    }
    merged[key] = secret;
    delete merged[fileKey];
  }
}
