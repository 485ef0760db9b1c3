export { deleteJobs, handler as deleteJobsEntryPoint } from './handlers/delete-jobs.js';
export { handleFailure, handler as handleFailureEntryPoint } from './handlers/handle-failure.js';
export { handler as reconcileEntryPoint, reconcile } from './handlers/reconcile.js';
export { handler as sweepEntryPoint, sweep } from './handlers/sweep.js';
