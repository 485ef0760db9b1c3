import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOGCOPY_ENTRY } from '@pitwall/logcopy';
import { build } from 'esbuild';
import type { LocalPrograms } from './executors/process-job-runner.js';

/** The worker pod's scripts, as the evaluator image carries them. */
export const POD_SCRIPTS = new URL('../../../cluster/images/evaluator/scripts/', import.meta.url).pathname;

/**
 * Bundles logcopy (as its image does) and the CARLA stand-in, so each starts as plain node; with them, the
 * pod's real scripts and the stand-ins' small wrappers (nvidia-smi, CARLA's server, the evaluator).
 */
export async function buildLocalPrograms(directory: string): Promise<LocalPrograms> {
  mkdirSync(directory, { recursive: true });
  const programs = {
    logcopy: join(directory, 'logcopy.mjs'),
    standin: join(directory, 'carla-standin.mjs'),
    standinBin: new URL('./standin/bin/', import.meta.url).pathname,
    evaluator: new URL('./standin/leaderboard_evaluator.py', import.meta.url).pathname,
    scripts: POD_SCRIPTS,
  };
  const bundle = (entry: string, outfile: string) =>
    build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      keepNames: true,
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'error',
    });
  await Promise.all([
    bundle(LOGCOPY_ENTRY, programs.logcopy),
    bundle(new URL('./standin/carla-standin.ts', import.meta.url).pathname, programs.standin),
  ]);
  return programs;
}
