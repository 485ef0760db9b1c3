export { offlineParams, packageService, prepareStage, SERVICES } from './cli.js';
export * from './stage-config.js';
