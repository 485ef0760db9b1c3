export { register } from './handlers/register.js';
export { relay } from './handlers/relay.js';
