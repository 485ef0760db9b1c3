export * from './challenge.js';
export * from './evalai-emulator.js';
export * from './model.js';
export * from './servers.js';
