import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
        body: async () => {
          const state: DashboardState = {
            ...(await overviewOf(deps)),
            ...(options.gpuCapacity === undefined ? {} : { gpuCapacity: options.gpuCapacity }),
          };
          return JSON.stringify(state);
        },
      },
    },
    '127.0.0.1',
    options.port ?? 0,
  );
}

/**
 * The public status page, on the address the host gives (for participants to read): each waiting
 * submission's place and estimated start and each run's progress, by submission id, with team names only
 * when the stage's queue.publicStatus allows them. No reasons, no failures, no logs.
 */
export async function startPublicStatus(
  deps: Pick<ControlPlane, 'config' | 'store' | 'artifacts' | 'admissions' | 'clock'>,
  options: { readonly host: string; readonly port: number },
): Promise<RunningDashboard> {
  const showTeamNames = deps.config.queue?.publicStatus.showTeamNames ?? false;
  return listen(
    {
      '/': { type: 'text/html; charset=utf-8', body: async () => PUBLIC_STATUS_PAGE },
      '/api/status': {
        type: 'application/json',
        body: async () => JSON.stringify(publicStatusOf(await overviewOf(deps), showTeamNames)),
      },
    },
    options.host,
    options.port,
  );
}

interface Route {
  readonly type: string;
  body(): Promise<string>;
}

/** GET only; the pages build their DOM from text, and no script but their own runs. */
async function listen(routes: Readonly<Record<string, Route>>, host: string, port: number): Promise<RunningDashboard> {
  const server: Server = createServer((request, response) => {
    const route = routes[new URL(request.url ?? '/', 'http://dashboard').pathname];
    if (request.method !== 'GET') {
      response.writeHead(405, { Allow: 'GET' }).end();
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
