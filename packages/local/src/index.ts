// First: it sets what Powertools reads as the functions are imported.
import './powertools-environment.js';

export * from './bundles.js';
export * from './container-images.js';
export * from './container-job-runner.js';
export * from './engine.js';
export { PREEMPT_ONCE_TAG, PREEMPT_SPOT_TAG } from './folder-job-runner.js';
export * from './gpu-pool.js';
export * from './instant-job-runner.js';
export * from './local-job-runner.js';
export * from './pipe.js';
export * from './port-book.js';
export * from './runtime.js';
export * from './standin/behaviours.js';
export * from './state-lock.js';
export * from './stores.js';
