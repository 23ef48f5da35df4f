export {
  runSimulation,
  SimViolation,
  type SimOptions,
  type SimResult,
  type SimStats,
} from './simulation.js';
export { SimNetwork, NO_FAULTS, type NetworkFaults } from './network.js';
export { Trace, describeMessage } from './trace.js';
