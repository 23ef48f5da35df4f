import './numbers.js';
export { ballast } from '../gen/messages.js';
export * from './frame.js';
export * from './registry.js';
