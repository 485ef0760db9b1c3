import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClientOptions {
  readonly region: string;
  /** A local server (dynalite, s3rver); AWS when absent. */
  readonly endpoint?: string | undefined;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** SDK client options: AWS's credential chain, or for a local server the given (or any) credentials. */
export function clientOptions(
  options: AwsClientOptions,
  localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' },
) {
  if (!options.endpoint)
    return { region: options.region, ...(options.credentials ? { credentials: options.credentials } : {}) };
  return { region: options.region, endpoint: options.endpoint, credentials: options.credentials ?? localCredentials };
}

export function createDocumentClient(options: AwsClientOptions): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientOptions(options)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
