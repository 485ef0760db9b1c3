import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, DynamoDbAdmissionLedger, DynamoDbSubmissionStore } from '@pitwall/adapters';
import { type ControlPlane, systemClock } from '@pitwall/domain';
import type { LambdaConfig } from './config.js';

/** What every function has: its challenge configuration, the submission store, the queue's ledger (the same table) and the clock. */
type CorePort = 'config' | 'store' | 'admissions' | 'clock';
/** What a function has only when it wires it, so its bundle carries only the clients it calls. */
export type OptionalPort = Exclude<keyof ControlPlane, CorePort>;
/** The control plane of a function that wires the ports P. */
export type Plane<P extends OptionalPort = OptionalPort> = Pick<ControlPlane, CorePort | P>;

/** What adapter factories share: the configuration, and one DynamoDB client per function. */
export interface SharedClients {
  readonly config: LambdaConfig;
  readonly documents: DynamoDBDocumentClient;
}

export type AdapterFactory<T> = (shared: SharedClients) => T | Promise<T>;

/**
 * One factory per optional port a function uses: `s3ArtifactStore`, `evalAiHost`, `kubernetesJobRunner`,
 * `sqsSubmissionQueue`, `stepFunctionsExecutions`, each from its own `@pitwall/lambda-kit/<adapter>` entry.
 */
export type Wiring<P extends OptionalPort> = { readonly [K in P]-?: AdapterFactory<ControlPlane[K]> };

/**
 * Builds a function's control plane from its configuration: the core ports, then those it wires. A port
 * `given` is taken as it is instead of built, for a host that brings its own (the local runtime's Jobs).
 */
export async function buildPlane<P extends OptionalPort>(
  config: LambdaConfig,
  wiring: Wiring<P>,
  given: Partial<ControlPlane> = {},
): Promise<Plane<P>> {
  const documents = createDocumentClient({ ...config.aws, endpoint: config.endpoints.dynamodb });
  const shared: SharedClients = { config, documents };
  const plane: Record<string, unknown> = {
    config: config.challenge,
    store: given.store ?? new DynamoDbSubmissionStore(documents, config.table),
    admissions: given.admissions ?? new DynamoDbAdmissionLedger(documents, config.table),
    clock: given.clock ?? systemClock,
  };
  for (const [port, factory] of Object.entries<AdapterFactory<unknown>>(wiring)) {
    plane[port] = given[port as P] ?? (await factory(shared));
  }
  return plane as Plane<P>;
}
