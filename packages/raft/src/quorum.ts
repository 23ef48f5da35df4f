/**
 * Majority arithmetic over a set of voters. Learners never appear here: they neither vote nor
 * count towards commit.
 */

export type VoteResult = 'won' | 'lost' | 'pending';

export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The highest index a majority of voters has (the commit index the leader may use, before the
 * current-term rule). Missing voters count as 0. An insertion sort on a small array: configs have
 * 1 to 7 voters, so this beats a general sort and allocates one array.
 */
export function committedIndex(
  voters: readonly string[],
  matchOf: (id: string) => number | undefined,
): number {
  const n = voters.length;
  if (n === 0) return 0;
  const sorted = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const m = matchOf(voters[i]!) ?? 0;
    let j = i;
    while (j > 0 && sorted[j - 1]! > m) {
      sorted[j] = sorted[j - 1]!;
      j--;
    }
    sorted[j] = m;
  }
  // Ascending order: the element at n - quorum is held by at least `quorum` voters.
  return sorted[n - quorumSize(n)]!;
}

/** The obvious definition, kept to check committedIndex against (see test/quorum.test.ts). */
export function committedIndexNaive(
  voters: readonly string[],
  matchOf: (id: string) => number | undefined,
): number {
  if (voters.length === 0) return 0;
  const matches = voters.map((id) => matchOf(id) ?? 0);
  let best = 0;
  for (const candidate of matches) {
    const holders = matches.filter((m) => m >= candidate).length;
    if (holders >= quorumSize(voters.length) && candidate > best) best = candidate;
  }
  return best;
}

/** Outcome of a vote (or of any yes/no poll such as ReadIndex acks and check-quorum). */
export function voteResult(
  voters: readonly string[],
  voteOf: (id: string) => boolean | undefined,
): VoteResult {
  // An empty configuration wins by convention (etcd does the same); no caller campaigns in one.
  if (voters.length === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = voteOf(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = quorumSize(voters.length);
  if (granted >= q) return 'won';
  if (granted + missing >= q) return 'pending';
  return 'lost';
}
