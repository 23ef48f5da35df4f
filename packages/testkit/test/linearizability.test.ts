import fc from 'fast-check';
import t from 'tap';
import { checkLinearizable, partitionBy, type Model, type Operation } from '../src/index.js';

// A map of registers: put(k, v) -> 'ok'; get(k) -> value or null; cas(k, from, to) -> boolean.
type Input =
  | { f: 'put'; k: string; v: number }
  | { f: 'get'; k: string }
  | { f: 'cas'; k: string; from: number; to: number };
type Output = 'ok' | number | null | boolean;

const register: Model<number | null, Input, Output> = {
  init: () => null,
  step(state, input, output) {
    switch (input.f) {
      case 'put':
        return input.v;
      case 'get':
        return output === undefined || output === state ? state : undefined;
      case 'cas': {
        const swapped = state === input.from;
        if (output !== undefined && output !== swapped) return undefined;
        return swapped ? input.to : state;
      }
    }
  },
  key: (s) => String(s),
  partition: partitionBy<Input, Output>((i) => i.k),
};

function op(
  clientId: number,
  callTime: number,
  returnTime: number,
  input: Input,
  output: Output | undefined,
): Operation<Input, Output> {
  return { clientId, callTime, returnTime, input, output };
}

t.test('sequential history is linearizable', async (t) => {
  const h = [op(1, 0, 1, { f: 'put', k: 'a', v: 1 }, 'ok'), op(1, 2, 3, { f: 'get', k: 'a' }, 1)];
  t.equal(checkLinearizable(register, h).outcome, 'ok');
});

t.test('a stale read after a completed write is illegal', async (t) => {
  const h = [
    op(1, 0, 1, { f: 'put', k: 'a', v: 1 }, 'ok'),
    op(2, 2, 3, { f: 'put', k: 'a', v: 2 }, 'ok'),
    op(3, 4, 5, { f: 'get', k: 'a' }, 1),
  ];
  const r = checkLinearizable(register, h);
  t.equal(r.outcome, 'illegal');
  if (r.outcome === 'illegal') t.ok(r.longestPrefix.length >= 2, 'reports how far it got');
});

t.test('concurrent operations may take either order', async (t) => {
  const h = [
    op(1, 0, 10, { f: 'put', k: 'a', v: 1 }, 'ok'),
    op(2, 1, 9, { f: 'put', k: 'a', v: 2 }, 'ok'),
    op(3, 11, 12, { f: 'get', k: 'a' }, 1),
    op(3, 13, 14, { f: 'get', k: 'a' }, 1),
  ];
  t.equal(checkLinearizable(register, h).outcome, 'ok');
  // ...but two readers after both writes cannot disagree.
  const bad = [...h, op(4, 15, 16, { f: 'get', k: 'a' }, 2)];
  t.equal(checkLinearizable(register, bad).outcome, 'illegal');
});

t.test('indeterminate operations may or may not have happened', async (t) => {
  const happened = [
    op(1, 0, 1, { f: 'put', k: 'a', v: 1 }, 'ok'),
    op(2, 2, Infinity, { f: 'put', k: 'a', v: 2 }, undefined),
    op(3, 5, 6, { f: 'get', k: 'a' }, 2),
  ];
  t.equal(checkLinearizable(register, happened).outcome, 'ok');
  const didNot = [...happened.slice(0, 2), op(3, 5, 6, { f: 'get', k: 'a' }, 1)];
  t.equal(checkLinearizable(register, didNot).outcome, 'ok');
  const neverBefore = [
    op(3, 0, 1, { f: 'get', k: 'a' }, 2),
    op(2, 2, Infinity, { f: 'put', k: 'a', v: 2 }, undefined),
  ];
  t.equal(
    checkLinearizable(register, neverBefore).outcome,
    'illegal',
    'cannot take effect before its call',
  );
});

t.test('partitions are checked independently', async (t) => {
  const h = [
    op(1, 0, 1, { f: 'put', k: 'a', v: 1 }, 'ok'),
    op(2, 0, 1, { f: 'put', k: 'b', v: 5 }, 'ok'),
    op(1, 2, 3, { f: 'get', k: 'b' }, 5),
    op(2, 2, 3, { f: 'cas', k: 'a', from: 1, to: 7 }, true),
    op(1, 4, 5, { f: 'get', k: 'a' }, 7),
  ];
  const r = checkLinearizable(register, h);
  t.same(r, { outcome: 'ok', partitions: 2 });
});

// Histories produced by running a real sequential register with random overlapping intervals are
// always linearizable; corrupting one read's value must (almost always) be caught. The checker is
// compared against the execution that produced the history.
t.test('property: histories from a real atomic register pass; corrupted reads fail', async (t) => {
  let caught = 0;
  let corrupted = 0;
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          client: fc.nat({ max: 3 }),
          f: fc.constantFrom('put', 'get', 'cas'),
          v: fc.nat({ max: 3 }),
          from: fc.nat({ max: 3 }),
        }),
        {
          minLength: 1,
          maxLength: 14,
        },
      ),
      fc.nat(),
      (specs, corruptAt) => {
        // Execute atomically at times 10*i+5; each op's interval contains its execution point and
        // clients' intervals do not overlap each other.
        let value: number | null = null;
        const lastReturn = new Map<number, number>();
        const history: Array<Operation<Input, Output>> = [];
        specs.forEach((s, i) => {
          const at = 10 * i + 5;
          const call = Math.max((lastReturn.get(s.client) ?? -1) + 1, at - 7);
          const ret = at + 3;
          lastReturn.set(s.client, ret);
          let input: Input;
          let output: Output;
          if (s.f === 'put') {
            input = { f: 'put', k: 'x', v: s.v };
            value = s.v;
            output = 'ok';
          } else if (s.f === 'get') {
            input = { f: 'get', k: 'x' };
            output = value;
          } else {
            input = { f: 'cas', k: 'x', from: s.from, to: s.v };
            output = value === s.from;
            if (output) value = s.v;
          }
          history.push(op(s.client, call, ret, input, output));
        });
        if (checkLinearizable(register, history).outcome !== 'ok') return false;
        const reads = history.filter((h) => h.input.f === 'get');
        if (reads.length === 0) return true;
        const victim = reads[corruptAt % reads.length]!;
        victim.output = 99; // a value nobody ever wrote
        corrupted++;
        if (checkLinearizable(register, history).outcome === 'illegal') caught++;
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.equal(caught, corrupted, 'every read of a never-written value is caught');
});

t.test('the step budget gives unknown rather than running forever', async (t) => {
  const h: Array<Operation<Input, Output>> = [];
  for (let i = 0; i < 40; i++) h.push(op(i, 0, 100, { f: 'put', k: 'a', v: i }, 'ok'));
  h.push(op(99, 101, 102, { f: 'get', k: 'a' }, 1000));
  const r = checkLinearizable(register, h, { maxSteps: 10_000 });
  t.equal(r.outcome, 'unknown');
});

t.test('a search that outgrows its state budget is undecided, not an error', async (t) => {
  // Many writes of unknown outcome, each possibly applied anywhere (or never), then a read of a
  // value none of them wrote: every order must be tried before the history is found illegal.
  const history: Array<Operation<Input, Output>> = [];
  for (let i = 0; i < 40; i++) {
    history.push(op(i, i, Infinity, { f: 'put', k: 'x', v: i }, undefined));
  }
  history.push(op(99, 1_000, 1_001, { f: 'get', k: 'x' }, 12345));
  const r = checkLinearizable(register, history, { maxStates: 1_000 });
  t.equal(r.outcome, 'unknown');
  t.match(r, { reason: /partition 0 \(41 operations\) exceeded the search budget/ });
});
