import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface AwsClientOptions {
  readonly region: string;
  /** A local server (dynalite, s3rver); AWS when absent. */
  readonly endpoint?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

const local = (options: AwsClientOptions) => ({
  region: options.region,
  ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  ...(options.credentials ? { credentials: options.credentials } : {}),
});

export function createDocumentClient(options: AwsClientOptions): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(local(options)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createS3Client(options: AwsClientOptions): S3Client {
  // Local S3 servers serve buckets by path, not by host name.
  return new S3Client({ ...local(options), ...(options.endpoint ? { forcePathStyle: true } : {}) });
}
