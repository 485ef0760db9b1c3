import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Both are CommonJS packages without types; see types.d.ts.
import dynalite from 'dynalite';
import S3rver from 's3rver';

export interface RunningServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Where the embedded stores listen: this machine only (a cluster's pods reach them through signed gateways). */
const LOOPBACK = '127.0.0.1';

/** dynalite and the local SQS check no signature: any key would do; this one, wherever Pitwall signs for them. */
export const UNSIGNED_SERVER_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** s3rver accepts only these credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * An embedded DynamoDB (dynalite) on 127.0.0.1 and `port` (a free one by default). With
 * `directory`, tables are kept on disk there (a restart continues); without, in memory. dynalite has no
 * transactions: Pitwall uses none.
 */
export async function startDynamoDb(options: { directory?: string; port?: number } = {}): Promise<RunningServer> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.directory ? { path: options.directory } : {}),
  });
  survivesAbortedRequests(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    close: () => closeServer(server),
  };
}

/**
 * dynalite throws from a request's 'error' (a client gone mid-request: ECONNRESET "aborted"), which ends the
 * whole process; here such a request only ends its own response.
 */
function survivesAbortedRequests(server: Server): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const on = req.on.bind(req);
    req.on = ((event: string, listener: (...args: unknown[]) => void) =>
      on(event, event === 'error' ? () => res.destroy() : listener)) as typeof req.on;
    for (const handler of handlers) handler.call(server, req, res);
  });
}

/** How long a closing server waits for requests in flight before it ends their connections. */
const CLOSE_GRACE_MS = 2000;

/**
 * Stops accepting, lets requests in flight finish for a moment, then ends every connection left: clients
 * that outlive the server (logcopy in a Job's containers) must not hold its close for ever.
 */
function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const ends = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    ends.unref();
    server.close(() => {
      clearTimeout(ends);
      resolve();
    });
  });
}

/**
 * An embedded S3 (s3rver) on 127.0.0.1 and `port` (a free one by default), with the given
 * buckets. Files live under `directory` (kept) or a temporary folder (removed on close). Clients need
 * forcePathStyle and S3RVER_CREDENTIALS.
 */
export async function startS3(options: {
  buckets: readonly string[];
  directory?: string;
  port?: number;
}): Promise<RunningServer> {
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'pitwall-s3-')));
  const server = new S3rver({
    address: LOOPBACK,
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://${LOOPBACK}:${address.port}`,
    close: async () => {
      await (server.httpServer ? closeServer(server.httpServer) : server.close());
      if (!options.directory) await rm(directory, { recursive: true, force: true });
    },
  };
}
