export * from './aws-clients.js';
export * from './dynamodb-request-budget.js';
export * from './dynamodb-submission-store.js';
export * from './dynamodb-tables.js';
export * from './evalai-client.js';
export * from './memory-artifact-store.js';
export * from './request-budget.js';
export * from './s3-artifact-store.js';
