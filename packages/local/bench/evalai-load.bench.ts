// pnpm bench:evalai-load [N] — N long evaluations at once (200 by default) inside EvalAI's real request limit.
//
// The local runtime runs EvalAI's time SCALE times faster than the wall clock: the control plane's clock,
// the emulator's 60-requests-per-60-s throttle, Pitwall's budget and the poll Wait are all scaled alike, so
// every figure below is in EvalAI's time. A few participants cancel while their evaluation runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@pitwall/domain';
import { EvalAiEmulator } from '@pitwall/emulators';
import {
  LEADERBOARD_LABELS,
  LOCAL_CHALLENGE_PK,
  LOCAL_HOST_TOKEN,
  LOCAL_PHASE_PK,
  LOCAL_SPLIT,
  LocalRuntime,
} from '../src/index.js';
import { percentile } from './percentile.js';

// The SDK's notice that later versions need Node 22 is for the maintainers (the lockfile pins the SDK).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const N = Number(process.argv[2] ?? 200);
/** EvalAI seconds per wall-clock second. */
const SCALE = 15;
/** EvalAI's limit: 60 requests per user token in any sliding 60 s. */
const LIMIT = 60;
const POLL_SECONDS = 30;
const EVALUATION_SECONDS = 30 * 60;
const CANCELS = Math.max(1, Math.round(N / 40));
const TERMINAL = ['finished', 'failed', 'cancelled'];

/**
 * EvalAI's time: SCALE times the wall's while this process keeps up. A stall of its event loop (a busy
 * machine) stalls it too: at SCALE the runtime's work per EvalAI minute is fixed, and a clock running on
 * through a stall would crowd a minute's requests, polls and cancels into a few of EvalAI's seconds, which no
 * Pitwall at SCALE 1 would see.
 */
const TICK_MS = 20;
const MAX_TICK_MS = 100;
const started = Date.now();
let paced = 0; // wall milliseconds this clock has counted
let lastTick = started;
setInterval(() => {
  const wall = Date.now();
  paced += Math.min(wall - lastTick, MAX_TICK_MS);
  lastTick = wall;
}, TICK_MS).unref();
const evalaiNow = () => started + (paced + Math.min(Date.now() - lastTick, MAX_TICK_MS)) * SCALE;
const clock: Clock = { now: () => new Date(evalaiNow()) };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The most requests in any window of `windowMs` (request times sorted). */
function maxInWindow(times: readonly number[], windowMs: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[last] as number) - (times[first] as number) >= windowMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

const evalai = new EvalAiEmulator({
  challengePk: LOCAL_CHALLENGE_PK,
  phases: [{ pk: LOCAL_PHASE_PK, codename: 'local-SENSORS', splits: [LOCAL_SPLIT] }],
  labels: LEADERBOARD_LABELS,
  hostToken: LOCAL_HOST_TOKEN,
  requestsPerMinute: LIMIT,
  now: evalaiNow,
  onSubmission: async (_s, message) => runtime.publish(message),
});
await evalai.start();
const stateDir = mkdtempSync(join(tmpdir(), 'pitwall-evalai-load-'));
const runtime = await LocalRuntime.start({
  stateDir,
  evalai,
  executor: 'instant',
  workers: 2,
  recover: false,
  clock,
  pollSeconds: POLL_SECONDS,
  pollMs: (POLL_SECONDS * 1000) / SCALE,
  requestsPerMinute: LIMIT,
  evaluationSeconds: EVALUATION_SECONDS,
  timeLimitSeconds: 4 * 3600,
  housekeepingMs: (15 * 60_000) / SCALE, // the sweeper's and the reconciler's schedule in AWS
});

const pks: number[] = [];
try {
  for (let i = 0; i < N; i++) pks.push((await runtime.submit(`team-${i}`, 'local/agent:good')).id);
  // Cancel a few, each a while after its evaluation started running.
  const toCancel = new Set(pks.filter((_, i) => i % Math.floor(N / CANCELS) === 0).slice(0, CANCELS));
  const cancelledAt = new Map<number, number>();
  const deadline = Date.now() + 30 * 60_000;
  let open = pks.length;
  while (open > 0) {
    if (Date.now() > deadline) throw new Error(`${open} submissions still open after 30 minutes`);
    open = 0;
    for (const pk of pks) {
      const remote = evalai.get(pk);
      if (toCancel.has(pk) && !cancelledAt.has(pk) && remote.status === 'running') {
        const since = remote.history.find((h) => h.status === 'running')?.at ?? evalaiNow();
        if (evalaiNow() - since > 5 * 60_000) {
          evalai.cancel(pk);
          cancelledAt.set(pk, evalaiNow());
        }
      }
      if (!TERMINAL.includes(remote.status) || !(await runtime.plane.store.get(pk))?.evalaiReported) open += 1;
    }
    await sleep(100);
  }
  await runtime.engine.idle();

  let failed = 0;
  const detection: number[] = [];
  for (const pk of pks) {
    const remote = evalai.get(pk);
    const expected = cancelledAt.has(pk) ? 'cancelled' : 'finished';
    if (remote.status !== expected) {
      failed += 1;
      const reason = (await runtime.plane.store.get(pk))?.outcome?.reason ?? remote.stderr;
      console.log(`submission ${pk}: ${remote.status}, expected ${expected}: ${reason}`);
    }
    const at = cancelledAt.get(pk);
    if (at === undefined) continue;
    // Seen by the status watch (its mark), or by the read before a write (the run then ends at once).
    const record = await runtime.plane.store.get(pk);
    const seenAt = record?.cancelledOnEvalAiAt ?? record?.history.find((h) => h.status === 'cancelled')?.at;
    if (seenAt) detection.push((Date.parse(seenAt) - at) / (POLL_SECONDS * 1000));
    else failed += 1; // never seen
  }
  const api = evalai.requests.filter((r) => r.path.startsWith('/api/jobs/') && !r.path.includes('/leaderboard/'));
  const times = api.map((r) => r.at).sort((a, b) => a - b);
  const kinds = new Map<string, number>();
  for (const r of api) {
    const kind = `${r.method} ${r.path
      .replace(/\?.*$/, '')
      .replace(/\/\d+/g, '/<pk>')
      .replace(/\/$/, '')}${r.status === 429 ? ' (429)' : ''}`;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const evalaiMinutes = (evalaiNow() - started) / 60_000;

  console.log(`${N} submissions, ${EVALUATION_SECONDS / 60} min each, ${CANCELS} cancelled while running`);
  const wallSeconds = (Date.now() - started) / 1000;
  console.log(
    `EvalAI time ×${SCALE}: ${evalaiMinutes.toFixed(1)} min (${wallSeconds.toFixed(0)} s wall; the event loop stalled ${(wallSeconds - paced / 1000).toFixed(0)} s)`,
  );
  console.log('');
  console.log('EvalAI request                                                 count  per submission');
  for (const [kind, count] of [...kinds].sort((a, b) => b[1] - a[1])) {
    console.log(`${kind.padEnd(60)} ${String(count).padStart(7)} ${(count / N).toFixed(2).padStart(15)}`);
  }
  console.log(`${'all'.padEnd(60)} ${String(api.length).padStart(7)} ${(api.length / N).toFixed(2).padStart(15)}`);
  console.log('');
  console.log(`cancel detection in poll periods: ${detection.map((d) => d.toFixed(2)).join(' ')}`);
  console.log(
    `evalai-load: N=${N} failed=${failed} max60s=${maxInWindow(times, 60_000)} limit=${LIMIT} cancel_p99_polls=${percentile(detection, 99).toFixed(2)}`,
  );
} finally {
  await runtime.stop();
  await evalai.close();
  rmSync(stateDir, { recursive: true, force: true });
}
