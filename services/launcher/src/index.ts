export { handOver } from './handlers/hand-over.js';
export { launchWorker } from './handlers/launch-worker.js';
export { markQueued } from './handlers/mark-queued.js';
export { observe } from './handlers/observe.js';
export { plan } from './handlers/plan.js';
