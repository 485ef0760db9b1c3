import { readFileSync } from 'node:fs';
import { routesFile } from '@pitwall/carla-routes';
import { parseRouteFile, parseSubmissionMessage, planRoutes, workerJobName } from '@pitwall/domain';
import type { CliIo } from '../io.js';
import { lifecycleTable } from '../lifecycle-table.js';

/** The body EvalAI's sender publishes for a Docker submission: string challenge/phase pks, integer submission pk. */
export const SAMPLE_MESSAGE = JSON.stringify({
  challenge_pk: '203',
  phase_pk: '527',
  submission_pk: 1351,
  submitted_image_uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/leaderboard-20-participant-team-265:bb55c1',
  is_static_dataset_code_upload_submission: false,
});

const SAMPLE_TEAM = 'Équipe «Zoë» ? Autonomous Driving Lab #42';

/** `tour`: a quick look at the domain rules, without starting anything. */
export function tourCommand(io: CliIo): void {
  io.out('Pitwall tour');

  io.out('1. An EvalAI submission message, as EvalAI sends it:');
  io.out(`   ${SAMPLE_MESSAGE}`);
  const message = parseSubmissionMessage(SAMPLE_MESSAGE);
  io.out(`   read as challenge ${message.challengePk}, phase ${message.phasePk}, submission ${message.submissionPk}`);
  io.out(`   image ${message.submittedImageUri ?? '(none)'}`);
  io.out('');

  io.out(`2. Kubernetes Job names for 4 workers of team "${SAMPLE_TEAM}":`);
  for (let worker = 0; worker < 4; worker++) {
    io.out(`   ${workerJobName({ team: SAMPLE_TEAM, track: 'SENSORS', submissionId: message.submissionPk, worker })}`);
  }

  io.out('');
  io.out('3. The 20 public validation routes split over 4 GPU workers:');
  const routes = parseRouteFile(readFileSync(routesFile('validation'), 'utf8'));
  for (const strategy of ['contiguous', 'balanced'] as const) {
    const plan = planRoutes(routes, { workers: 4, strategy });
    const subsets = plan.workers.map((w) => w.routesSubset).join(' | ');
    io.out(`   ${strategy.padEnd(10)} busiest worker ${(plan.makespan / 1000).toFixed(1)} km: ${subsets}`);
  }
  io.out('');
  io.out('4. The submission lifecycle and what EvalAI is told at each step:');
  for (const line of lifecycleTable()) io.out(`   ${line}`);
  io.out('');
  io.out('Run `pnpm pitwall --help` for every command.');
}
