export * from './config.js';
export * from './dynamodb-progress.js';
export * from './logcopy.js';

/** The program's entry point, for bundling (the container image, the local runtime). */
export const LOGCOPY_ENTRY = new URL('./main.ts', import.meta.url).pathname;
