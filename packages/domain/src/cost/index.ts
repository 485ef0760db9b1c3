export * from './prices.js';
export * from './simulate-spot.js';
export * from './spot.js';
