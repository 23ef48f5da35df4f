import type { Parameters } from 'fast-check';

/**
 * fast-check settings for this package. A failure prints its seed and path; replay it with
 * `FC_SEED=<seed> FC_PATH=<path> npx tap dist/test/<file>.test.js`.
 */
export function fcParams<T>(numRuns: number): Parameters<T> {
  const params: Parameters<T> = { numRuns };
  if (process.env.FC_SEED !== undefined) params.seed = Number(process.env.FC_SEED);
  if (process.env.FC_PATH !== undefined) params.path = process.env.FC_PATH;
  if (process.env.FC_RUNS !== undefined) params.numRuns = Number(process.env.FC_RUNS);
  return params;
}
