export { recordEndpoints } from './local-stack.js';
export { buildProgram, runCli } from './program.js';
