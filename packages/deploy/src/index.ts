export { offlineParams, packageService, prepareStage, SERVICES } from './cli.js';
export * from './cloudformation-yaml.js';
export * from './operations-dashboard.js';
export * from './stage-config.js';
export * from './stage-file.js';
export * from './task-functions.js';
export * from './template-schema.js';
