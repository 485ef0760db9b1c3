import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LocalRuntime } from '@pitwall/local';
import { type Browser, chromium, type Page } from 'playwright-core';
import { until } from '../support/until.js';

// The live page in a real browser (Debian's chromium, driven by playwright-core): it draws what Pitwall is
// doing and redraws itself as that changes, with no reload.
const CHROMIUM = process.env.PITWALL_CHROMIUM ?? '/usr/bin/chromium';

let runtime: LocalRuntime;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  runtime = await LocalRuntime.start({
    stateDir: mkdtempSync(join(tmpdir(), 'pitwall-dashboard-')),
    workers: 2,
    pollMs: 200,
    msPerKm: 60,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

const rows = (section: string) => page.locator(`#${section} tr[data-row]`);

describe('the dashboard', () => {
  it('is served on 127.0.0.1 and updates itself: a run with its workers, a failure with its class, the board', async () => {
    expect(runtime.endpoints.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await page.goto(runtime.endpoints.dashboard);
    await expect(page.locator('#running').textContent()).resolves.toBe('nothing running');

    // Everything below happens after the page loaded: what it shows, it fetched by itself.
    const good = await runtime.submit('Team Good', 'local/agent:good');
    const evil = await runtime.submit('<img src=x onerror="document.title=1">', 'elsewhere.example/agent:1');
    await page.locator('#running tr[data-row]', { hasText: 'Team Good' }).waitFor({ timeout: 60_000 });
    const run = rows('running').filter({ hasText: 'Team Good' });
    await expect(run.locator('[role=progressbar]').count()).resolves.toBe(2); // one bar per worker
    // The GPU time so far, at the local GPU's price, as Observe recorded the pods.
    await run.filter({ hasText: /\$\d+\.\d{2}, \d+\.\d{2} GPU-h/ }).waitFor({ timeout: 30_000 });
    await expect(page.locator('#gpus').textContent()).resolves.toBe('2');
    // A hung run shows it: when its agents last wrote, and the time it has left.
    await run.filter({ hasText: / ago/ }).waitFor({ timeout: 30_000 });
    await expect(run.locator('td').nth(5).textContent()).resolves.toMatch(/^\d+ (s|min)$/);

    const failure = rows('failures').filter({ hasText: String(evil.id) });
    await failure.waitFor({ timeout: 30_000 });
    await expect(failure.locator('td').allTextContents()).resolves.toEqual([
      String(evil.id),
      '<img src=x onerror="document.title=1">', // a team name is text, never markup
      'rejected',
      'participant',
      expect.stringContaining('does not come from an allowed registry') as unknown as string,
      expect.stringMatching(/ ago$/) as unknown as string,
    ]);
    await expect(page.title()).resolves.toBe('Pitwall');

    // The bars fill as the workers drive, then the run leaves for the board.
    await until(
      async () => Number(await run.locator('[role=progressbar]').first().getAttribute('aria-valuenow')) > 0,
      60_000,
    );
    await until(() => runtime.evalai.get(good.id).status === 'finished', 90_000);
    const board = rows('leaderboard').filter({ hasText: 'Team Good' });
    await board.waitFor({ timeout: 10_000 });
    await expect(board.locator('td').first().textContent()).resolves.toBe('1');
    await expect(page.locator('#running').textContent()).resolves.toBe('nothing running');
  }, 180_000);

  it('answers the overview as JSON and refuses anything but GET', async () => {
    const response = await fetch(new URL('/api/overview', runtime.endpoints.dashboard));
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({ waiting: [], running: [], workersRunning: 0 });
    expect((await fetch(runtime.endpoints.dashboard, { method: 'POST' })).status).toBe(405);
  });
});
