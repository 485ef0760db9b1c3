export * from './checkpoints.js';
export * from './fake-job-runner.js';
export * from './manual-clock.js';
export * from './memory-artifact-store.js';
export * from './memory-evalai.js';
export * from './memory-executions.js';
export * from './memory-queue.js';
export * from './memory-submission-store.js';
