export * from './checkpoint.js';
export * from './evalai-payload.js';
export * from './merge.js';
export * from './python-compat.js';
