import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

// Service name, log level and namespace come from the POWERTOOLS_* variables each service sets.
export const logger = new Logger();
export const metrics = new Metrics({ namespace: 'Pitwall' });
export const tracer = new Tracer();
