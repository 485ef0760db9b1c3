export { collect, handler as collectEntryPoint } from './handlers/collect.js';
export { handler as publishEntryPoint, publish } from './handlers/publish.js';
