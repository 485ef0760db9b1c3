import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { readLambdaConfig } from './config.js';
import { buildPlane, type OptionalPort, type Plane, type Wiring } from './control-plane.js';
import { logger, metrics } from './observability.js';

/** What a raw handler is built from: the control plane, and where idempotency records go. */
export interface HandlerServices<P extends OptionalPort = OptionalPort> {
  readonly plane: Plane<P>;
  /** A new persistence layer for each idempotent operation. */
  readonly idempotency?: () => BasePersistenceLayer;
}

/**
 * A raw handler: services in, a function of the task input out; P names the optional ports it uses.
 * Tests and the local runtime call it directly, with a whole control plane.
 */
export type RawHandler<R, P extends OptionalPort = OptionalPort> = (
  services: HandlerServices<P>,
) => (event: unknown, context?: Context) => Promise<R>;

async function servicesFromEnvironment<P extends OptionalPort>(wiring: Wiring<P>): Promise<HandlerServices<P>> {
  const config = readLambdaConfig(process.env);
  const endpoint = config.endpoints.dynamodb;
  return {
    plane: await buildPlane(config, wiring),
    idempotency: () =>
      new DynamoDBPersistenceLayer({
        tableName: config.idempotencyTable,
        awsSdkV3Client: new DynamoDBClient({ region: config.region, ...(endpoint ? { endpoint } : {}) }),
      }),
  };
}

/**
 * Every error a task ends with is logged once, by name, before the state machine sees it: errors the
 * hosts must act on (a refused EvalAI token) reach them in the logs as well as in the execution.
 */
const logFailure: middy.MiddlewareObj<unknown, unknown, Error, Context> = {
  onError: async (request) => {
    const error = request.error;
    if (error) logger.error(`the task failed with ${error.name}: ${error.message}`, { error });
  },
};

/**
 * The Lambda entry point of a raw handler: middleware first, handler last; wiring once per cold start.
 * The wiring must supply exactly the ports the handler declares, so no unused client is bundled.
 */
export function lambdaHandler<R, P extends OptionalPort>(raw: RawHandler<R, P>, wiring: Wiring<NoInfer<P>>) {
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
    .use(logFailure)
    .handler(async (event, context) => (await handler())(event, context));
}
