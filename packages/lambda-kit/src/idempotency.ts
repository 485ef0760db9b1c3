import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';

/**
 * Makes a side effect idempotent on the fields named by `key` (a JMESPath over its input): a repeated
 * call with the same key returns the first call's result instead of acting again.
 */
export function idempotentOn<I extends object, R>(
  newPersistenceLayer: (() => BasePersistenceLayer) | undefined,
  key: string,
  sideEffect: (input: I) => Promise<R>,
): (input: I, context?: Context) => Promise<R> {
  if (!newPersistenceLayer) return sideEffect;
  const config = new IdempotencyConfig({ eventKeyJmesPath: key, expiresAfterSeconds: 24 * 3600 });
  // A persistence layer keeps the first configuration it is given: one layer per operation.
  const once = makeIdempotent(sideEffect, { persistenceStore: newPersistenceLayer(), config }) as (
    input: I,
  ) => Promise<R>;
  return (input, context) => {
    // The remaining time bounds how long an in-progress record blocks a retry.
    if (context) config.registerLambdaContext(context);
    return once(input);
  };
}
