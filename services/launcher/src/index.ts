export { awaitAdmission, handler as awaitAdmissionEntryPoint } from './handlers/await-admission.js';
export { handler as handOverEntryPoint, handOver } from './handlers/hand-over.js';
export { handler as launchWorkerEntryPoint, launchWorker } from './handlers/launch-worker.js';
export { handler as markQueuedEntryPoint, markQueued } from './handlers/mark-queued.js';
export { handler as observeEntryPoint, observe } from './handlers/observe.js';
export { handler as planEntryPoint, plan } from './handlers/plan.js';
