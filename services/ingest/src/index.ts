export { register } from './handlers/register.js';
