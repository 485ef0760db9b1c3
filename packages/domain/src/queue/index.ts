export * from './fair-queue.js';
export * from './simulate.js';
