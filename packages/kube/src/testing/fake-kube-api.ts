import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateManifest } from '../manifest-validation.js';

export interface FakeFault {
  readonly method?: string;
  readonly path?: RegExp;
  readonly status: number;
  times?: number;
}

/**
 * A stand-in for the Kubernetes API server on 127.0.0.1 (no real one can run here): the Job and Pod
 * paths Pitwall calls, bodies validated against the official schemas, bearer auth, and faults on demand.
 */
export class FakeKubeApi {
  readonly jobs = new Map<string, Record<string, unknown>>();
  readonly pods = new Map<string, Record<string, unknown>[]>();
  readonly logs = new Map<string, string>();
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** Nodes by name, as GET /api/v1/nodes/<name> answers them. */
  readonly nodes = new Map<string, Record<string, unknown>>();
  readonly faults: FakeFault[] = [];
  private server: Server | undefined;

  constructor(
    private readonly token: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Sets a job's status as the job controller would. */
  setJobStatus(name: string, status: Record<string, unknown>): void {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job ${name}`);
    job.status = status;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const reply = (status: number, body: unknown, type = 'application/json') => {
      this.requests.push({ method, path: url.pathname + url.search, status });
      res.writeHead(status, { 'Content-Type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const failure = (status: number, reason: string, message: string) =>
      reply(status, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message,
        reason,
        code: status,
      });

    if (req.headers.authorization !== `Bearer ${this.token}`) return failure(401, 'Unauthorized', 'Unauthorized');
    const fault = this.faults.find(
      (f) => (f.times ?? 1) > 0 && (!f.method || f.method === method) && (!f.path || f.path.test(url.pathname)),
    );
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      return failure(fault.status, 'InternalError', `injected ${fault.status}`);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');

    let m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(url.pathname);
    if (m && method === 'POST') {
      const body = JSON.parse(text) as { metadata?: { name?: string; namespace?: string } };
      try {
        await validateManifest(body);
      } catch (error) {
        return failure(422, 'Invalid', (error as Error).message);
      }
      if (body.metadata?.namespace && body.metadata.namespace !== m[1])
        return failure(400, 'BadRequest', 'namespace mismatch');
      const name = body.metadata?.name ?? '';
      if (this.jobs.has(name)) return failure(409, 'AlreadyExists', `jobs.batch "${name}" already exists`);
      const stored = {
        ...body,
        metadata: { ...body.metadata, creationTimestamp: this.now().toISOString() },
        status: {},
      };
      this.jobs.set(name, stored);
      return reply(201, stored);
    }
    if (m && method === 'GET') {
      // A label selector of `key=value` terms, as the runner sends it.
      const terms = (url.searchParams.get('labelSelector') ?? '')
        .split(',')
        .filter(Boolean)
        .map((t) => t.split('='));
      const items = [...this.jobs.values()].filter((job) => {
        const labels = ((job.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {}) as Record<
          string,
          string
        >;
        return terms.every(([key, value]) => labels[key ?? ''] === value);
      });
      return reply(200, { kind: 'JobList', apiVersion: 'batch/v1', metadata: {}, items });
    }
    m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)$/.exec(url.pathname);
    if (m && method === 'GET') {
      const job = this.jobs.get(m[2] ?? '');
      return job ? reply(200, job) : failure(404, 'NotFound', `jobs.batch "${m[2]}" not found`);
    }
    if (m && method === 'DELETE') {
      const name = m[2] ?? '';
      if (!this.jobs.has(name)) return failure(404, 'NotFound', `jobs.batch "${name}" not found`);
      this.jobs.delete(name);
      this.pods.delete(name);
      return reply(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
    }
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    if (m && method === 'GET') {
      const job = /^job-name=(.+)$/.exec(url.searchParams.get('labelSelector') ?? '')?.[1] ?? '';
      return reply(200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: this.pods.get(job) ?? [] });
    }
    m = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
    if (m && method === 'GET') {
      const node = this.nodes.get(m[1] ?? '');
      return node ? reply(200, node) : failure(404, 'NotFound', `nodes "${m[1]}" not found`);
    }
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(url.pathname);
    if (m && method === 'GET') {
      const log = this.logs.get(`${m[2]}/${url.searchParams.get('container')}`);
      return log === undefined ? failure(400, 'BadRequest', 'container not found') : reply(200, log, 'text/plain');
    }
    return failure(404, 'NotFound', `no route ${method} ${url.pathname}`);
  }
}
