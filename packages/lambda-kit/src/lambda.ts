import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { clientOptions } from '@pitwall/adapters';
import type { ControlPlane } from '@pitwall/domain';
import type { TaskName, TaskOutput } from '@pitwall/workflow';
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

/** A Task's raw handler: its input parsed by the task table's schema, its output the table's type. */
export type TaskHandler<N extends TaskName, P extends OptionalPort = OptionalPort> = RawHandler<TaskOutput<N>, P>;

/**
 * Where an entry point runs: the environment it reads its configuration from, as a Lambda reads its own,
 * and ports the host brings itself instead of the adapters the function wires (the local runtime's Jobs,
 * its engine); everything else is built from the environment, as in AWS.
 */
export interface LambdaHost {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly ports?: Partial<ControlPlane>;
}

const LAMBDA: LambdaHost = { env: process.env };

async function servicesOf<P extends OptionalPort>(wiring: Wiring<P>, host: LambdaHost): Promise<HandlerServices<P>> {
  const config = readLambdaConfig(host.env);
  return {
    plane: await buildPlane(config, wiring, host.ports),
    idempotency: () =>
      new DynamoDBPersistenceLayer({
        tableName: config.idempotencyTable,
        awsSdkV3Client: new DynamoDBClient(clientOptions({ ...config.aws, endpoint: config.endpoints.dynamodb })),
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

/** A function's Lambda entry point; `hostedBy` is the same entry point configured by another host. */
export type LambdaEntryPoint<R> = middy.MiddyfiedHandler<unknown, R, Error, Context> & {
  readonly hostedBy: (host: LambdaHost) => LambdaEntryPoint<R>;
};

/**
 * The Lambda entry point of a raw handler: middleware first, handler last; wiring once per cold start.
 * The wiring must supply exactly the ports the handler declares, so no unused client is bundled.
 */
export function lambdaHandler<R, P extends OptionalPort>(
  raw: RawHandler<R, P>,
  wiring: Wiring<NoInfer<P>>,
  host: LambdaHost = LAMBDA,
): LambdaEntryPoint<R> {
  let built: Promise<(event: unknown, context?: Context) => Promise<R>> | undefined;
  const handler = () => {
    built ??= servicesOf(wiring, host)
      .then(raw)
      .catch((error: unknown) => {
        built = undefined; // let the next invocation try again (e.g. the secret was not readable yet)
        throw error;
      });
    return built;
  };
  const entryPoint = middy<unknown, R, Error, Context>()
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(logFailure)
    .handler(async (event, context) => (await handler())(event, context));
  return Object.assign(entryPoint, { hostedBy: (other: LambdaHost) => lambdaHandler(raw, wiring, other) });
}
