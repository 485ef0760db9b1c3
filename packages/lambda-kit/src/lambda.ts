import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { ControlPlane } from '@pitwall/domain';
import type { Context } from 'aws-lambda';
import { readLambdaConfig } from './config.js';
import { buildControlPlane, type Wiring } from './control-plane.js';
import { logger, metrics, tracer } from './observability.js';

/** What a raw handler is built from: the control plane, and where idempotency records go. */
export interface HandlerServices {
  readonly plane: ControlPlane;
  /** A new persistence layer for each idempotent operation. */
  readonly idempotency?: () => BasePersistenceLayer;
}

/** A raw handler: services in, a function of the task input out. Tests and the local runtime call it directly. */
export type RawHandler<R> = (services: HandlerServices) => (event: unknown, context?: Context) => Promise<R>;

async function servicesFromEnvironment(wiring: Wiring): Promise<HandlerServices> {
  const config = readLambdaConfig(process.env);
  const endpoint = config.endpoints.dynamodb;
  return {
    plane: await buildControlPlane(config, wiring),
    idempotency: () =>
      new DynamoDBPersistenceLayer({
        tableName: config.idempotencyTable,
        awsSdkV3Client: new DynamoDBClient({ region: config.region, ...(endpoint ? { endpoint } : {}) }),
      }),
  };
}

/** The Lambda entry point of a raw handler: middleware first, handler last; wiring once per cold start. */
export function lambdaHandler<R>(raw: RawHandler<R>, wiring: Wiring = {}) {
  let built: Promise<(event: unknown, context?: Context) => Promise<R>> | undefined;
  const handler = () => {
    built ??= servicesFromEnvironment(wiring)
      .then(raw)
      .catch((error: unknown) => {
        built = undefined; // let the next invocation try again (e.g. the secret was not readable yet)
        throw error;
      });
    return built;
  };
  return middy<unknown, R, Error, Context>()
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .handler(async (event, context) => (await handler())(event, context));
}
