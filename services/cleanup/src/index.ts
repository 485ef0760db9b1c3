export { deleteJobs } from './handlers/delete-jobs.js';
export { handleFailure } from './handlers/handle-failure.js';
export { sweep } from './handlers/sweep.js';
