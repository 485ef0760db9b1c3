import { createServer, type Server } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { type ControlPlane, type Overview, overviewOf, publicStatusOf } from '@pitwall/domain';
import { DASHBOARD_PAGE, PUBLIC_STATUS_PAGE } from './dashboard-page.js';

/** What the page reads once a second: the control plane's overview and this machine's GPUs. */
export interface DashboardState extends Overview {
  /** The GPUs the executor hands out, when it has a pool of them. */
  readonly gpuCapacity?: number;
}

export interface RunningDashboard {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The live page, on 127.0.0.1 only: `/` is a static page that asks `/api/overview` every second and redraws
 * itself. Read-only; nothing it shows is more than `pitwall list` shows to the same machine.
 */
export async function startDashboard(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'admissions' | 'clock'>,
  options: { readonly gpuCapacity?: number; readonly port?: number } = {},
): Promise<RunningDashboard> {
  return listen(
    {
      '/': { type: 'text/html; charset=utf-8', body: async () => DASHBOARD_PAGE },
      '/api/overview': {
        type: 'application/json',
        body: builtAtMostEvery(READ_MODEL_MS, async () => {
          const state: DashboardState = {
            ...(await overviewOf(deps)),
            ...(options.gpuCapacity === undefined ? {} : { gpuCapacity: options.gpuCapacity }),
          };
          return JSON.stringify(state);
        }),
      },
    },
    { host: '127.0.0.1', port: options.port ?? 0, hostNames: ['localhost'] },
  );
}

/**
 * The public status page, on the address the host gives (for participants to read): each waiting
 * submission's place and estimated start and each run's progress, by submission id, with team names only
 * when the stage's queue.publicStatus allows them. No reasons, no failures, no logs.
 */
export async function startPublicStatus(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'admissions' | 'clock'>,
  options: PublicStatusOptions,
): Promise<RunningDashboard> {
  const showTeamNames = deps.config.queue?.publicStatus.showTeamNames ?? false;
  return listen(
    {
      '/': { type: 'text/html; charset=utf-8', body: async () => PUBLIC_STATUS_PAGE },
      '/api/status': {
        type: 'application/json',
        body: builtAtMostEvery(READ_MODEL_MS, async () =>
          JSON.stringify(publicStatusOf(await overviewOf(deps), showTeamNames)),
        ),
      },
    },
    { ...options, hostNames: options.hostNames ?? [] },
  );
}

/** Where the public page listens, and the names participants reach it by (its Host headers), beside its address. */
export interface PublicStatusOptions {
  readonly host: string;
  readonly port: number;
  readonly hostNames?: readonly string[];
}

/** The read models are a table scan and an object read per run: built once a second at most, whoever asks. */
const READ_MODEL_MS = 1000;
/** Requests one client address may make in a second; the pages ask once a second. */
const REQUESTS_PER_CLIENT_SECOND = 10;

/** The same answer for every caller within `ms` of its start; a failure is not kept. */
function builtAtMostEvery(ms: number, build: () => Promise<string>): () => Promise<string> {
  let last: { at: number; answer: Promise<string> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= ms) {
      const answer = build();
      const entry = { at: now, answer };
      last = entry;
      answer.catch(() => {
        if (last === entry) last = undefined;
      });
    }
    return last.answer;
  };
}

/** A fixed window per client address: more than `limit` requests in a second are answered 429. */
function perClientLimit(limit: number): (client: string) => boolean {
  let window = 0;
  let counts = new Map<string, number>();
  return (client) => {
    const now = Math.floor(Date.now() / 1000);
    if (now !== window) {
      window = now;
      counts = new Map();
    }
    const count = (counts.get(client) ?? 0) + 1;
    counts.set(client, count);
    return count <= limit;
  };
}

/**
 * Whether a request's Host is one this server is reached by: its own address or a name it was given. An IP
 * literal is safe (no DNS rebinding without a name); any other name may be an attacker's pointed at us.
 */
function hostAllowed(header: string | undefined, names: readonly string[]): boolean {
  if (!header) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${header}`).hostname;
  } catch {
    return false;
  }
  return isIP(hostname.replace(/^\[|\]$/g, '')) !== 0 || names.includes(hostname.toLowerCase());
}

interface Route {
  readonly type: string;
  body(): Promise<string>;
}

/**
 * GET only, under the names given; the pages build their DOM from text, and no script but their own runs.
 */
async function listen(
  routes: Readonly<Record<string, Route>>,
  { host, port, hostNames }: { readonly host: string; readonly port: number; readonly hostNames: readonly string[] },
): Promise<RunningDashboard> {
  const withinRate = perClientLimit(REQUESTS_PER_CLIENT_SECOND);
  const names = hostNames.map((name) => name.toLowerCase());
  const server: Server = createServer((request, response) => {
    const route = routes[new URL(request.url ?? '/', 'http://dashboard').pathname];
    if (!hostAllowed(request.headers.host, names)) {
      const known = [host, ...names].join(' and ');
      response.writeHead(421, { 'Content-Type': 'text/plain' }).end(`unknown host: this page answers ${known} only`);
      return;
    }
    if (request.method !== 'GET') {
      response.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    if (!withinRate(request.socket.remoteAddress ?? '')) {
      response.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'text/plain' }).end('too many requests');
      return;
    }
    if (!route) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    route.body().then(
      (body) => {
        response.writeHead(200, {
          'Content-Type': route.type,
          'Cache-Control': 'no-store',
          'Content-Security-Policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        });
        response.end(body);
      },
      (error: unknown) => {
        response.writeHead(503, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ error: (error as Error).message.split('\n')[0] }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
