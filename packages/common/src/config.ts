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
  }

  for (const [key, propSchema] of Object.entries(schema.properties)) {
    const fromEnv = env[envName(key, prefix)];
    if (fromEnv !== undefined) {
      try {
        merged[key] = shapeFromString(propSchema as TSchema, fromEnv);
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
      } catch (err) {
        throw new BallastError('CONFIG', `${flagName(key)}: ${(err as Error).message}`);
      }
    }
  }

  const validate = ajv.compile(schema);
  if (!validate(merged)) {
    const msgs = (validate.errors ?? []).map((e) => describe(e, prefix, schema));
    throw new BallastError('CONFIG', `invalid configuration: ${[...new Set(msgs)].join('; ')}`, {
      errors: validate.errors,
    });
  }
  return merged as Static<T>;
}
