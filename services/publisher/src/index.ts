export { collect } from './handlers/collect.js';
export { publish } from './handlers/publish.js';
