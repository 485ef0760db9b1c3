export * from './control/index.js';
export * from './errors.js';
export * from './lifecycle.js';
export * from './message.js';
export * from './names.js';
export * from './queue/index.js';
export * from './results/index.js';
export * from './routes/index.js';
