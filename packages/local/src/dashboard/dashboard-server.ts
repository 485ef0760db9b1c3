import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ControlPlane, type Overview, overviewOf } from '@pitwall/domain';
import { DASHBOARD_PAGE } from './dashboard-page.js';

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
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://dashboard').pathname;
    if (request.method !== 'GET') {
      response.writeHead(405, { Allow: 'GET' }).end();
      return;
    }
    if (path === '/') {
      response
        .writeHead(200, {
          'Content-Type': 'text/html; charset=utf-8',
          // The page builds its DOM from text only; no script but its own runs.
          'Content-Security-Policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
        })
        .end(DASHBOARD_PAGE);
      return;
    }
    if (path === '/api/overview') {
      overviewOf(deps).then(
        (overview) => {
          const state: DashboardState = {
            ...overview,
            ...(options.gpuCapacity === undefined ? {} : { gpuCapacity: options.gpuCapacity }),
          };
          response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          response.end(JSON.stringify(state));
        },
        (error: unknown) => {
          response.writeHead(503, { 'Content-Type': 'application/json' });
          response.end(JSON.stringify({ error: (error as Error).message.split('\n')[0] }));
        },
      );
      return;
    }
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
