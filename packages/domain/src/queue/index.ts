export * from './admission-ledger.js';
export * from './fair-queue.js';
export * from './simulate.js';
