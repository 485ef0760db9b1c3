import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';

/**
 * Makes a side effect idempotent on the fields named by `key` (a JMESPath over its input): a repeated
 * call with the same key returns the first call's result instead of acting again.
 */
export function idempotentOn<I extends object, R>(
  persistence: BasePersistenceLayer | undefined,
  key: string,
  sideEffect: (input: I) => Promise<R>,
): (input: I) => Promise<R> {
  if (!persistence) return sideEffect;
  return makeIdempotent(sideEffect, {
    persistenceStore: persistence,
    config: new IdempotencyConfig({ eventKeyJmesPath: key, expiresAfterSeconds: 24 * 3600 }),
  }) as (input: I) => Promise<R>;
}
