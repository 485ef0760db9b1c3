export { deleteJobs } from './handlers/delete-jobs.js';
export { handleFailure } from './handlers/handle-failure.js';
export { reconcile } from './handlers/reconcile.js';
export { sweep } from './handlers/sweep.js';
