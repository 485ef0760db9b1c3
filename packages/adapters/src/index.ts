export * from './evalai-client.js';
export * from './request-budget.js';
