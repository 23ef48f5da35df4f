export * from './member.js';
export * from './membership.js';
