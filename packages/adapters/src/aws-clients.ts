import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClientOptions {
  readonly region: string;
  /** Another address for the service: a VPC interface endpoint, or a local server (dynalite, s3rver). */
  readonly endpoint?: string | undefined;
  /** AWS's credential chain when absent, wherever the endpoint is. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function clientOptions(options: AwsClientOptions) {
  return {
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}

export function createDocumentClient(options: AwsClientOptions): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientOptions(options)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
