import { request } from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import { parseChallengeConfig } from '@pitwall/domain';
import {
  ManualClock,
  MemoryAdmissionLedger,
  MemoryArtifactStore,
  MemorySubmissionStore,
} from '@pitwall/domain/testing';
import { type RunningDashboard, startDashboard, startPublicStatus } from '../src/dashboard/dashboard-server.js';

// The live page and the public status page: read models built at most once a second, whoever asks, a bound on
// how often one client may ask, and only the host names they are served under (no DNS rebinding).

const config = parseChallengeConfig({
  challengePk: 1,
  phases: { 2: { track: 'SENSORS', routesKey: 'routes/validation.xml', workers: 2, timeLimitSeconds: 3600 } },
  allowedImages: ['^local/'],
  queue: { capacity: { SENSORS: 4 }, publicStatus: { showTeamNames: false } },
});

function countingDeps() {
  const store = new MemorySubmissionStore();
  let scans = 0;
  const listAll = store.listAll.bind(store);
  store.listAll = async () => {
    scans += 1;
    return listAll();
  };
  const deps = {
    config,
    store,
    artifacts: new MemoryArtifactStore(),
    admissions: new MemoryAdmissionLedger(),
    clock: new ManualClock(),
  };
  return { deps, scans: () => scans };
}

/** One GET, with the Host header given (a browser sends the name it resolved). */
function get(url: string, host?: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const sent = request(
      { host: target.hostname, port: target.port, path: target.pathname, headers: host ? { Host: host } : {} },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    sent.on('error', reject);
    sent.end();
  });
}

const servers: RunningDashboard[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

describe('the dashboard and the public status page', () => {
  it('build the public read model at most once a second however many ask, and bound one client’s rate', async () => {
    const { deps, scans } = countingDeps();
    const page = await startPublicStatus(deps, { host: '127.0.0.1', port: 0 });
    servers.push(page);
    const api = new URL('api/status', page.url).toString();
    const answers = await Promise.all(Array.from({ length: 8 }, () => get(api)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(scans()).toBe(1);
    const burst = await Promise.all(Array.from({ length: 40 }, () => get(api)));
    expect(burst.filter((a) => a.status === 429).length).toBeGreaterThan(0);
    expect(scans()).toBeLessThanOrEqual(2);
  });

  it('answer only the host names they are served under: a rebound DNS name is refused', async () => {
    const { deps } = countingDeps();
    const dashboard = await startDashboard(deps);
    servers.push(dashboard);
    const port = new URL(dashboard.url).port;
    const overview = new URL('api/overview', dashboard.url).toString();
    expect((await get(overview, `127.0.0.1:${port}`)).status).toBe(200);
    expect((await get(overview, `localhost:${port}`)).status).toBe(200);
    const rebound = await get(overview, `attacker.example:${port}`);
    expect(rebound).toEqual({ status: 421, body: 'unknown host: this page answers 127.0.0.1 and localhost only' });

    const page = await startPublicStatus(deps, { host: '127.0.0.1', port: 0, hostNames: ['status.example.org'] });
    servers.push(page);
    const status = new URL('api/status', page.url).toString();
    expect((await get(status, 'status.example.org')).status).toBe(200);
    expect((await get(status, 'attacker.example')).status).toBe(421);
  });
});
