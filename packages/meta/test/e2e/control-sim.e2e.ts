// The control loops on a model cluster of 100 nodes in 5 zones and 10,000 volumes (see
// helpers/control-scenario.ts); about a minute on a loaded 2-core machine.
import t from 'tap';
import { runControlScenario } from '../helpers/control-scenario.js';

const seed = Number(process.env.META_CONTROL_SEED ?? 82_026);

t.test('control loops converge on a model of 100 nodes and 10,000 volumes', (t) =>
  runControlScenario(t, {
    seed,
    replay: `replay: META_CONTROL_SEED=${seed} npx tap dist/test/e2e/control-sim.e2e.js`,
    nodes: 100,
    volumes: 10_000,
  }),
);
