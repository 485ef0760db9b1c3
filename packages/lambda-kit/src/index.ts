export * from './config.js';
export * from './control-plane.js';
export * from './idempotency.js';
export * from './lambda.js';
export * from './observability.js';
export * from './schemas.js';
