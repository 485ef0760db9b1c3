export * from './manifest-validation.js';
export * from './settings.js';
export * from './worker-job.js';
