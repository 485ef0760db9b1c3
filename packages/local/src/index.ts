// First: it sets what Powertools reads as the functions are imported.
import './powertools-environment.js';

export * from './bundles.js';
export * from './engine.js';
export * from './executors/container-images.js';
export * from './executors/container-job-runner.js';
export * from './executors/executor-table.js';
export { PREEMPT_ONCE_TAG, PREEMPT_SPOT_TAG } from './executors/folder-job-runner.js';
export * from './executors/gpu-pool.js';
export * from './executors/instant-job-runner.js';
export * from './executors/port-book.js';
export * from './executors/process-job-runner.js';
export * from './local-challenge.js';
export * from './pipe.js';
export * from './queues.js';
export * from './route-files.js';
export * from './runtime.js';
export * from './runtime-options.js';
export * from './standin/behaviours.js';
export * from './state-lock.js';
export * from './stores.js';
