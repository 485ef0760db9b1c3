export * from './plan.js';
export * from './route-file.js';
