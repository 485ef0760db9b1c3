export { handler as registerEntryPoint, register } from './handlers/register.js';
export { handler as relayEntryPoint, relay } from './handlers/relay.js';
