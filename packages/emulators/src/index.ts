export * from './evalai-emulator.js';
export * from './servers.js';
