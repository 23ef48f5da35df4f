// The control loops on a model cluster of 40 nodes in 5 zones and 4,000 volumes (the default
// suite); test/e2e/control-sim.e2e.ts runs the same scenario at 100 nodes and 10,000 volumes.
import t from 'tap';
import { runControlScenario } from './helpers/control-scenario.js';

const seed = Number(process.env.META_CONTROL_SEED ?? 82_026);

t.test('control loops converge on a model of 40 nodes and 4,000 volumes', (t) =>
  runControlScenario(t, {
    seed,
    replay: `replay: META_CONTROL_SEED=${seed} npx tap dist/test/control-sim.test.js`,
    nodes: 40,
    volumes: 4_000,
  }),
);
