import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type ArtifactStore, ArtifactStoreUnavailableError, FileRefusedError } from '@pitwall/domain';
import { type AwsClientOptions, clientOptions } from './aws-clients.js';
import { openRegularFile } from './regular-file.js';

export function createS3Client(options: AwsClientOptions): S3Client {
  return new S3Client({
    ...clientOptions(options),
    // Through another endpoint the bucket goes in the path: a VPC endpoint's `bucket.vpce-…` name and
    // s3rver both take it so.
    ...(options.endpoint ? { forcePathStyle: true } : {}),
    // A streamed upload would otherwise be sent aws-chunked with a trailing checksum, which s3rver stores
    // as it is; checksums stay on where S3 requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // A connection that stops answering ends the request instead of holding it (and logcopy) forever.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });
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

  /**
   * Uploads a file from disk as a stream, so memory stays bounded whatever its size. A file over
   * `maxBytes` keeps its last bytes (a log's end says most), after a first line that says how much was
   * left out; the object's metadata carries the original size.
   */
  async putFile(
    key: string,
    path: string,
    options: { readonly maxBytes: number; readonly contentType?: string },
  ): Promise<{ readonly bytes: number; readonly truncated: boolean }> {
    // Never through a link: the file sits in a folder the agent writes, beside logcopy's own secrets.
    let opened: Awaited<ReturnType<typeof openRegularFile>>;
    try {
      opened = await openRegularFile(path);
    } catch (error) {
      if (error instanceof FileRefusedError) throw error;
      throw unavailable(error, `read ${path} for ${key}`);
    }
    const { file, size } = opened;
    const truncated = size > options.maxBytes;
    const header = truncated
      ? Buffer.from(
          `[pitwall: ${size - options.maxBytes} of ${size} bytes left out; the last ${options.maxBytes} follow]\n`,
        )
      : Buffer.alloc(0);
    const start = truncated ? size - options.maxBytes : 0;
    // Exactly the bytes ContentLength announced: a file that grows meanwhile must not outrun it, and one that
    // shrinks (a checkpoint rewritten in place) must end the upload. The SDK pipes the body into the request
    // and a pipe passes no error on, so the request is aborted, or the server would wait for ever.
    const aborted = new AbortController();
    let changed: Error | undefined;
    const body = Readable.from(
      (async function* () {
        if (header.length > 0) yield header;
        let sent = 0;
        if (size > start) {
          for await (const chunk of file.createReadStream({ start, end: size - 1 })) {
            sent += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
        }
        if (sent < size - start) {
          changed = new Error(`${path} changed while it was read (${sent} of ${size - start} bytes)`);
          aborted.abort(changed);
        }
      })(),
    );
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: body,
      ContentLength: header.length + (size - start),
      ContentType: options.contentType ?? 'text/plain',
      Metadata: { 'original-bytes': String(size), truncated: String(truncated) },
    });
    // A request that failed stops reading the body: closing the file under it then breaks the body's read
    // with an 'error' nobody listens to any more, which would end the process. The request's own error is
    // the one that counts, so the body is ended first and its error kept quiet.
    body.on('error', () => undefined);
    try {
      await this.client.send(command, { abortSignal: aborted.signal });
    } catch (error) {
      throw unavailable(changed ?? error, `write ${key}`);
    } finally {
      body.destroy();
      await file.close().catch(() => undefined);
    }
    return { bytes: size, truncated };
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
