// pnpm bench:burst — the control plane's own overhead under a burst of submissions, with instant evaluations.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InstantJobRunner, LocalRuntime } from '../src/index.js';
import { percentile } from './percentile.js';

// The SDK's notice that later versions need Node 22 is for the maintainers (the lockfile pins the SDK).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const bursts = sizes.length > 0 ? sizes : [1000, 2000];

async function burst(count: number) {
  const stateDir = mkdtempSync(join(tmpdir(), 'pitwall-burst-'));
  const runtime = await LocalRuntime.start({ stateDir, executor: 'instant', workers: 4, pollMs: 20, recover: false });
  try {
    const jobs = runtime.jobs as InstantJobRunner;
    const started = Date.now();
    const sent = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const submission = await runtime.submit(`team-${i}`, 'local/agent:good');
      sent.set(submission.id, Date.now());
    }
    const pending = new Set(sent.keys());
    while (pending.size > 0) {
      for (const pk of pending)
        if (['finished', 'failed', 'cancelled'].includes(runtime.evalai.get(pk).status)) pending.delete(pk);
      if (Date.now() - started > 30 * 60_000)
        throw new Error(`${pending.size} submissions still open after 30 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const elapsed = (Date.now() - started) / 1000;
    const toLaunch: number[] = [];
    const toPublish: number[] = [];
    let failed = 0;
    for (const [pk, at] of sent) {
      const launches = jobs.launchedAt.get(pk) ?? [];
      const remote = runtime.evalai.get(pk);
      if (remote.status !== 'finished') failed += 1;
      const finishedAt = remote.history.find((h) => h.status === 'finished')?.at;
      if (launches.length === 0 || finishedAt === undefined) continue;
      const lastLaunch = Math.max(...launches); // instant jobs are done the moment they launch
      toLaunch.push(lastLaunch - at);
      toPublish.push(finishedAt - lastLaunch);
    }
    await runtime.engine.idle();
    return { count, elapsed, failed, toLaunch, toPublish };
  } finally {
    await runtime.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const results = [];
console.log('submissions  seconds  per second  failed  sent→launched p50/p99 ms  done→finished p50/p99 ms');
for (const count of bursts) {
  const r = await burst(count);
  results.push(r);
  console.log(
    [
      String(r.count).padStart(11),
      r.elapsed.toFixed(1).padStart(8),
      (r.count / r.elapsed).toFixed(1).padStart(11),
      String(r.failed).padStart(7),
      `${percentile(r.toLaunch, 50)}/${percentile(r.toLaunch, 99)}`.padStart(25),
      `${percentile(r.toPublish, 50)}/${percentile(r.toPublish, 99)}`.padStart(25),
    ].join(' '),
  );
}
if (results.length >= 2) {
  const [first, second] = results as [(typeof results)[0], (typeof results)[0]];
  console.log(
    `time ratio ${second.count}/${first.count}: ${(second.elapsed / first.elapsed).toFixed(2)} (linear would be ${(second.count / first.count).toFixed(2)})`,
  );
}
