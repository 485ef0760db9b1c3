import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseEnv } from 'node:util';
import type { RunningServer } from '@pitwall/emulators';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** An access key pair, as logcopy's Secret holds it (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`). */
export interface StoresKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The machine's stores key file cannot be used. */
export class StoresKeyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoresKeyError';
  }
}

/** How far a request's X-Amz-Date may be from now, as AWS allows. */
const CLOCK_SKEW_MS = 15 * 60_000;
/** The most of one request's body the gateway reads (logcopy's uploads are capped far below). */
const MAX_BODY_BYTES = 128 * 2 ** 20;

/**
 * The machine's own key for its stores, made once in `file` (an env file, readable by the owner only, for
 * `kubectl create secret generic <name> --from-env-file=<file>`), and the same on every start after.
 */
export function machineStoresKey(file: string): StoresKey {
  if (!existsSync(file)) {
    const key = `AWS_ACCESS_KEY_ID=PITWALL${randomBytes(8).toString('hex').toUpperCase()}\nAWS_SECRET_ACCESS_KEY=${randomBytes(30).toString('base64url')}\n`;
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = parseEnv(
    readFileSync(file, 'utf8'),
  );
  if (!accessKeyId || !secretAccessKey) {
    throw new StoresKeyError(
      `${file} does not hold AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: remove it for a new key`,
    );
  }
  return { accessKeyId, secretAccessKey };
}

class Sha256 {
  private readonly hash;
  constructor(secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {}
}

function toBuffer(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;.-]+),\s*Signature=([0-9a-f]{64})$/;

/** Why a request was refused, as S3 and DynamoDB say it (403). */
class RefusedRequest extends Error {}

/** The X-Amz-Date format, 20261207T203000Z, as a Date. */
function amzDate(value: string | undefined): Date {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!match) throw new RefusedRequest('the request has no valid X-Amz-Date');
  const [, y, mo, d, h, mi, s] = match;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}

function signer(service: string, region: string, key: StoresKey): SignatureV4 {
  // S3 signs the path as sent; every other service escapes it again.
  return new SignatureV4({ service, region, credentials: key, sha256: Sha256, uriEscapePath: service !== 's3' });
}

/** The request's query, as the signer takes it (a name given twice, a list). */
function queryOf(req: IncomingMessage): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URL(req.url ?? '/', 'http://gateway').searchParams) {
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
}

/** The request as it was signed: its method, path, query and the signed headers only. */
function signedRequest(req: IncomingMessage, body: Buffer, signedHeaders: readonly string[]): HttpRequest {
  const query = queryOf(req);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) throw new RefusedRequest(`the signed header ${name} is missing`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  return new HttpRequest({
    method: req.method ?? 'GET',
    protocol: 'http:',
    hostname: 'gateway',
    path,
    query,
    headers,
    body,
  });
}

/** Checks the request's SigV4 signature against `key` and returns its region; throws RefusedRequest when it does not hold. */
async function verify(req: IncomingMessage, body: Buffer, key: StoresKey, now: Date): Promise<string> {
  const match = AUTHORIZATION.exec(String(req.headers.authorization ?? ''));
  if (!match) throw new RefusedRequest('the request is not signed with AWS Signature Version 4');
  const [, accessKeyId, day, region, service, signed, signature] = match as unknown as string[];
  if (accessKeyId !== key.accessKeyId) throw new RefusedRequest('the request is signed with another key');
  const signingDate = amzDate(req.headers['x-amz-date'] as string | undefined);
  if (Math.abs(signingDate.getTime() - now.getTime()) > CLOCK_SKEW_MS) {
    throw new RefusedRequest('the request was signed more than 15 minutes from now');
  }
  const headers = (signed as string).split(';');
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (typeof payloadHash === 'string' && /^[0-9a-f]{64}$/.test(payloadHash)) {
    if (createHash('sha256').update(body).digest('hex') !== payloadHash) {
      throw new RefusedRequest('the body does not match its signed hash');
    }
  }
  const expected = await signer(service as string, region as string, key).sign(signedRequest(req, body, headers), {
    signingDate,
  });
  const [, computed = ''] = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization)) ?? [];
  if (!day || !signingDate.toISOString().replaceAll('-', '').startsWith(day)) {
    throw new RefusedRequest('the credential scope is not the signing day');
  }
  if (computed.length !== 64 || !timingSafeEqual(Buffer.from(computed), Buffer.from(signature as string))) {
    throw new RefusedRequest('the signature does not match');
  }
  return region as string;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RefusedRequest('the body is too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function refuse(res: ServerResponse, service: string, message: string): void {
  res.statusCode = 403;
  if (service === 's3') {
    res.setHeader('content-type', 'application/xml');
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>${message}</Message></Error>`,
    );
  } else {
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    res.end(JSON.stringify({ __type: 'com.amazon.coral.service#UnrecognizedClientException', message }));
  }
}

/**
 * A store's door for the cluster's pods: it admits only requests signed with this machine's key (logcopy's,
 * from its Secret), and passes them on to the store on 127.0.0.1, signed again with the store's own key.
 * The agent shares logcopy's network but not its environment: without the key it can reach, not change.
 */
export async function startSignedGateway(options: {
  readonly host: string;
  readonly port?: number;
  /** The store's endpoint on this machine. */
  readonly target: string;
  readonly service: 's3' | 'dynamodb';
  readonly key: StoresKey;
  /** The key the store itself checks (s3rver's; dynalite checks none). */
  readonly storeKey: StoresKey;
  readonly now?: () => Date;
}): Promise<RunningServer> {
  const target = new URL(options.target);
  const now = options.now ?? (() => new Date());
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const region = await verify(req, body, options.key, now());
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined && name !== 'authorization' && name !== 'connection') {
          headers[name] = Array.isArray(value) ? value.join(',') : value;
        }
      }
      headers.host = target.host;
      const onward = new HttpRequest({
        method: req.method ?? 'GET',
        protocol: 'http:',
        hostname: target.hostname,
        port: Number(target.port),
        path: (req.url ?? '/').split('?')[0] ?? '/',
        query: queryOf(req),
        headers,
        body,
      });
      const resigned = await signer(options.service, region, options.storeKey).sign(onward, {
        signingDate: amzDate(headers['x-amz-date']),
      });
      const forward = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: resigned.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      forward.end(body);
    })().catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      if (error instanceof RefusedRequest) return refuse(res, options.service, error.message);
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    endpoint: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
