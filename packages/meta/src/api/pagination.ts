import { Type } from '@sinclair/typebox';
import { BallastError } from '@ballast/common';

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;
const MAX_CURSOR_KEY_LENGTH = 256;

export const PageQuery = {
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT }),
  ),
  cursor: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]{1,512}$',
      description: 'opaque; from a previous nextCursor',
    }),
  ),
};

/** Cursors are opaque to clients: the sort key of the last item returned, wrapped. */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const after = (parsed as { after?: unknown } | undefined)?.after;
  if (typeof after !== 'string' || after.length > MAX_CURSOR_KEY_LENGTH) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      'cursor is not one this API issued; start again without it',
    );
  }
  return after;
}

/**
 * One page of `items` (sorted by `key`, ascending, unique keys) after the cursor, keeping those
 * that pass `filter`. Finds the cursor position by binary search.
 */
export function paginate<T>(
  items: readonly T[],
  key: (item: T) => string,
  options: {
    limit?: number | undefined;
    cursor?: string | undefined;
    filter?: (item: T) => boolean;
  },
): { items: T[]; nextCursor: string | null } {
  const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
  let start = 0;
  if (options.cursor !== undefined) {
    const after = decodeCursor(options.cursor);
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (key(items[mid]!) <= after) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const page: T[] = [];
  let i = start;
  for (; i < items.length && page.length < limit; i++) {
    const item = items[i]!;
    if (!options.filter || options.filter(item)) page.push(item);
  }
  const more = page.length === limit && i < items.length;
  return { items: page, nextCursor: more ? encodeCursor(key(page[page.length - 1]!)) : null };
}
