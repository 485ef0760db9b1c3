export * from './fake-job-runner.js';
