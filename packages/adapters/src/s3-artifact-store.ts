import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type ArtifactStore, ArtifactStoreUnavailableError } from '@pitwall/domain';
import { type AwsClientOptions, clientOptions } from './aws-clients.js';

export function createS3Client(options: AwsClientOptions): S3Client {
  // s3rver, the local S3 server, accepts only its own fixed credentials, and serves buckets by path.
  const local = options.endpoint ? { forcePathStyle: true } : {};
  return new S3Client({ ...clientOptions(options, { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }), ...local });
}

/** Submission files in one S3 bucket, under the keys of the domain's artifactKeys. */
export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw unavailable(error, `read ${key}`);
    }
  }

  async put(key: string, body: string, contentType = 'application/octet-stream'): Promise<void> {
    await this.send(
      key,
      // A sized body: the SDK warns that it cannot measure an empty string.
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: Buffer.from(body, 'utf8'),
        ContentLength: Buffer.byteLength(body, 'utf8'),
        ContentType: contentType,
      }),
    );
  }

  private async send(key: string, command: PutObjectCommand): Promise<void> {
    try {
      await this.client.send(command);
    } catch (error) {
      throw unavailable(error, `write ${key}`);
    }
  }
}

/**
 * S3's own errors (access denied, no such bucket) stay as they are; a transfer that broke off, a
 * timeout or a 5xx becomes ArtifactStoreUnavailableError, which the state machine retries.
 */
function unavailable(error: unknown, action: string): Error {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && status < 500) return error as Error;
  return new ArtifactStoreUnavailableError(`could not ${action}: ${(error as Error).message}`, { cause: error });
}
