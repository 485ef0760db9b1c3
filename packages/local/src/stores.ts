import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import {
  createDocumentClient,
  createS3Client,
  DynamoDbAdmissionLedger,
  DynamoDbSubmissionStore,
  idempotencyTable,
  S3ArtifactStore,
  submissionsTable,
} from '@pitwall/adapters';
import { routesFile } from '@pitwall/carla-routes';
import {
  type RunningServer,
  S3RVER_CREDENTIALS,
  startDynamoDb,
  startS3,
  UNSIGNED_SERVER_CREDENTIALS,
} from '@pitwall/emulators';
import { type StoresKey, startSignedGateway } from './signed-gateway.js';

export interface LocalStores {
  readonly dynamodb: RunningServer;
  readonly s3: RunningServer;
  /** The doors a cluster's pods use, when asked for (`gateway`): signed requests only. */
  readonly gateways?: { readonly dynamodb: RunningServer; readonly s3: RunningServer };
  readonly store: DynamoDbSubmissionStore;
  readonly admissions: DynamoDbAdmissionLedger;
  readonly artifacts: S3ArtifactStore;
  /** A new idempotency persistence layer for each idempotent operation. */
  readonly idempotency: () => DynamoDBPersistenceLayer;
  close(): Promise<void>;
}

export interface LocalStoresOptions {
  readonly table: string;
  readonly bucket: string;
  readonly region: string;
  /** Keep the data on disk here (a restart continues); in memory and a temporary folder otherwise. */
  readonly directory?: string;
  /**
   * For Jobs on a cluster: a signed gateway in front of each store on `host`, admitting only requests
   * signed with `key` (logcopy's). The stores themselves listen on 127.0.0.1 only.
   */
  readonly gateway?: { readonly host: string; readonly key: StoresKey };
}

/**
 * dynalite and s3rver with Pitwall's tables and bucket, the adapters over them, and the public
 * validation routes uploaded as `routes/validation.xml`.
 */
export async function startLocalStores(options: LocalStoresOptions): Promise<LocalStores> {
  const { table, bucket, region, directory, gateway } = options;
  if (directory) {
    mkdirSync(join(directory, 'dynamodb'), { recursive: true });
    mkdirSync(join(directory, 's3'), { recursive: true });
  }
  // The same ports as the last start where they are free: Jobs still running (containers) keep the
  // endpoints they were started with.
  const portsFile = directory ? join(directory, 'ports.json') : undefined;
  const last = portsFile ? lastPorts(portsFile) : {};
  const [dynamodb, s3] = await Promise.all([
    retryOnFreePort(
      (port) => startDynamoDb({ ...(directory ? { directory: join(directory, 'dynamodb') } : {}), port }),
      last.dynamodb,
    ),
    retryOnFreePort(
      (port) => startS3({ buckets: [bucket], ...(directory ? { directory: join(directory, 's3') } : {}), port }),
      last.s3,
    ),
  ]);
  const gateways = gateway
    ? {
        dynamodb: await retryOnFreePort(
          (port) =>
            startSignedGateway({
              ...gateway,
              port,
              target: dynamodb.endpoint,
              service: 'dynamodb',
              storeKey: UNSIGNED_SERVER_CREDENTIALS,
            }),
          last.dynamodbGateway,
        ),
        s3: await retryOnFreePort(
          (port) =>
            startSignedGateway({ ...gateway, port, target: s3.endpoint, service: 's3', storeKey: S3RVER_CREDENTIALS }),
          last.s3Gateway,
        ),
      }
    : undefined;
  if (portsFile) {
    const ports = {
      dynamodb: portOf(dynamodb.endpoint),
      s3: portOf(s3.endpoint),
      ...(gateways
        ? { dynamodbGateway: portOf(gateways.dynamodb.endpoint), s3Gateway: portOf(gateways.s3.endpoint) }
        : {}),
    };
    writeFileSync(portsFile, JSON.stringify(ports));
  }
  const credentials = UNSIGNED_SERVER_CREDENTIALS;
  const raw = new DynamoDBClient({ region, endpoint: dynamodb.endpoint, credentials });
  const documents = createDocumentClient({ region, endpoint: dynamodb.endpoint, credentials });
  const s3Client = createS3Client({ region, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS });
  for (const definition of [submissionsTable(table), idempotencyTable(`${table}-idempotency`)]) {
    try {
      await raw.send(new CreateTableCommand(definition));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error; // kept from the last run
    }
  }
  const artifacts = new S3ArtifactStore(s3Client, bucket);
  await artifacts.put('routes/validation.xml', readFileSync(routesFile('validation'), 'utf8'), 'application/xml');
  return {
    dynamodb,
    s3,
    ...(gateways ? { gateways } : {}),
    store: new DynamoDbSubmissionStore(documents, table),
    admissions: new DynamoDbAdmissionLedger(documents, table),
    artifacts,
    idempotency: () => new DynamoDBPersistenceLayer({ tableName: `${table}-idempotency`, awsSdkV3Client: raw }),
    close: async () => {
      for (const client of [raw, documents, s3Client]) client.destroy();
      await Promise.all([dynamodb.close(), s3.close(), gateways?.dynamodb.close(), gateways?.s3.close()]);
    },
  };
}

type KeptPorts = { dynamodb?: number; s3?: number; dynamodbGateway?: number; s3Gateway?: number };

function lastPorts(file: string): KeptPorts {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as KeptPorts;
  } catch {
    return {};
  }
}

/** The port of a store's (or gateway's) endpoint. */
export const portOf = (endpoint: string) => Number(new URL(endpoint).port);

/** Starts on `port`, or on a free one when it is taken (or none was kept). */
async function retryOnFreePort(start: (port: number) => Promise<RunningServer>, port: number | undefined) {
  if (!port) return start(0);
  try {
    return await start(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return start(0);
  }
}
