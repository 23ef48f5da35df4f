// The optimised commit index computation is checked against the obvious one on random inputs
// (etcd's quorum/quick_test.go idea), and the vote tally against its definition.
import t from 'tap';
import fc from 'fast-check';
import { committedIndex, committedIndexNaive, quorumSize, voteResult } from '../src/index.js';

const config = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 3 }), { minLength: 0, maxLength: 9 })
  .chain((voters) =>
    fc.record({
      voters: fc.constant(voters),
      // Some voters have no progress entry at all (counted as 0).
      matches: fc.dictionary(
        voters.length > 0 ? fc.constantFrom(...voters) : fc.constant('nobody'),
        fc.nat({ max: 50 }),
      ),
    }),
  );

t.test('committedIndex agrees with the naive definition', async (t) => {
  fc.assert(
    fc.property(config, ({ voters, matches }) => {
      const matchOf = (id: string): number | undefined =>
        Object.prototype.hasOwnProperty.call(matches, id) ? matches[id] : undefined;
      return committedIndex(voters, matchOf) === committedIndexNaive(voters, matchOf);
    }),
    { numRuns: 5000 },
  );
  t.pass('5000 random configurations agree');
});

t.test('committedIndex is held by a quorum and nothing higher is', async (t) => {
  fc.assert(
    fc.property(config, ({ voters, matches }) => {
      if (voters.length === 0) return true;
      const m = (id: string): number => matches[id] ?? 0;
      const c = committedIndex(voters, (id) => matches[id]);
      const holders = voters.filter((id) => m(id) >= c).length;
      const above = voters.filter((id) => m(id) >= c + 1).length;
      return holders >= quorumSize(voters.length) && above < quorumSize(voters.length);
    }),
    { numRuns: 5000 },
  );
  t.pass('checked');
});

t.test('voteResult: won, pending and lost by counting', async (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 9 }),
      fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { maxLength: 9 }),
      (voters, choices) => {
        const votes = new Map(voters.map((id, i) => [id, choices[i]]));
        const yes = voters.filter((id) => votes.get(id) === true).length;
        const no = voters.filter((id) => votes.get(id) === false).length;
        const q = quorumSize(voters.length);
        const expected = yes >= q ? 'won' : voters.length - no >= q ? 'pending' : 'lost';
        return voteResult(voters, (id) => votes.get(id)) === expected;
      },
    ),
    { numRuns: 5000 },
  );
  t.equal(
    voteResult([], () => undefined),
    'won',
    'an empty configuration wins by convention',
  );
  t.equal(
    committedIndex([], () => 5),
    0,
    'an empty configuration commits nothing',
  );
});
