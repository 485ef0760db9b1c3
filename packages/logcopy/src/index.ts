export * from './config.js';
export * from './dynamodb-progress.js';
export * from './logcopy.js';
