import { readFileSync } from 'node:fs';
import { routesFile } from '@pitwall/carla-routes';
import {
  artifactKeys,
  type ChallengeConfig,
  type ControlPlane,
  launchWorker,
  markQueued,
  parseChallengeConfig,
  planSubmission,
  registerSubmission,
  type SubmissionRef,
} from '../../src/index.js';
import {
  checkpointText,
  FakeJobRunner,
  ManualClock,
  MemoryAdmissionLedger,
  MemoryArtifactStore,
  MemoryEvalAi,
  MemoryExecutions,
  MemoryQueueProxy,
  MemorySubmissionQueue,
  MemorySubmissionStore,
} from '../../src/testing/index.js';

export const CHALLENGE_PK = 203;
export const PHASE_PK = 527;
export const QUALIFIER_PHASE_PK = 528;
export const IMAGE = 'registry.example/team:1';
const ROUTES = readFileSync(routesFile('validation'), 'utf8');

/** The main phase's track with some settings changed: `harness(withTrack({ partialEvaluation: true }))`. */
export function withTrack(settings: Record<string, unknown>) {
  return {
    phases: {
      [PHASE_PK]: {
        track: 'SENSORS',
        routesKey: 'routes/validation.xml',
        workers: 2,
        timeLimitSeconds: 3600,
        ...settings,
      },
    },
  };
}

/** Every port in memory: the control plane's use cases run in milliseconds, and each step can be interleaved. */
export function harness(overrides: Partial<Record<string, unknown>> = {}) {
  const clock = new ManualClock();
  const evalai = new MemoryEvalAi(() => clock.now());
  const store = new MemorySubmissionStore();
  const artifacts = new MemoryArtifactStore();
  artifacts.files.set('routes/validation.xml', ROUTES);
  const jobs = new FakeJobRunner(() => clock.now());
  const executions = new MemoryExecutions();
  const queue = new MemorySubmissionQueue();
  const config: ChallengeConfig = parseChallengeConfig({
    challengePk: CHALLENGE_PK,
    phases: {
      [PHASE_PK]: { track: 'SENSORS', routesKey: 'routes/validation.xml', workers: 2, timeLimitSeconds: 3600 },
      [QUALIFIER_PHASE_PK]: {
        track: 'SENSORS_QUALIFIER',
        routesKey: 'routes/validation.xml',
        workers: 2,
        timeLimitSeconds: 3600,
        qualifier: { grants: 'SENSORS', thresholds: { 'Driving score': 60 } },
      },
    },
    allowedImages: ['^registry\\.example/'],
    ...overrides,
  });
  const intake = new MemoryQueueProxy();
  const admissions = new MemoryAdmissionLedger();
  const plane: ControlPlane = {
    config,
    store,
    admissions,
    artifacts,
    evalai,
    jobs,
    queue,
    intake,
    clock,
    executions,
    starter: executions,
  };
  let team = 0;

  /** A participant's push, and the message EvalAI publishes for it. */
  const submit = (phasePk = PHASE_PK) => {
    team += 1;
    const { id } = evalai.submit({ phasePk, teamPk: team, teamName: `team ${team}`, imageUri: IMAGE });
    const body = JSON.stringify({
      challenge_pk: String(CHALLENGE_PK),
      phase_pk: String(phasePk),
      submission_pk: id,
      submitted_image_uri: IMAGE,
    });
    return { pk: id, event: [{ messageId: `m-${id}`, receiptHandle: 'r', body }] };
  };

  /** The message EvalAI publishes when a host resumes a submission: the same keys as the push's. */
  const resumeEvent = (pk: number) => {
    const body = JSON.stringify({
      challenge_pk: CHALLENGE_PK,
      phase_pk: PHASE_PK,
      submission_pk: pk,
      submitted_image_uri: IMAGE,
    });
    return [{ messageId: 'm-resume', receiptHandle: 'r', body }];
  };

  /** Register, Plan, Launch and MarkQueued, as one execution would run them; returns its submission. */
  const start = async (event: unknown, executionId = 'exec-1'): Promise<SubmissionRef> => {
    const registration = await registerSubmission(plane, { event, executionId });
    if (registration.action !== 'run') throw new Error(`expected run, got ${registration.action}`);
    const { submission } = registration;
    const plan = await planSubmission(plane, submission);
    for (const { worker } of plan.workers) await launchWorker(plane, { submission, worker });
    await markQueued(plane, submission);
    return submission;
  };

  /** Every worker of the attempt writes all its routes and its job succeeds. */
  const finishWorkers = async (submission: SubmissionRef) => {
    const record = await store.get(submission.submissionPk);
    for (const w of record?.plan?.workers ?? []) {
      await artifacts.put(artifactKeys.checkpoint(submission.submissionPk, w.worker), checkpointText(w.routeIds));
      jobs.setState(w.jobName, 'succeeded');
    }
  };

  /** Every worker Job of the submission has a running pod. */
  const runWorkers = (submissionPk: number) => {
    for (const job of jobs.jobsOf(submissionPk)) jobs.setState(job.name, 'running');
  };

  return {
    plane,
    clock,
    evalai,
    store,
    admissions,
    artifacts,
    jobs,
    executions,
    queue,
    intake,
    submit,
    resumeEvent,
    start,
    runWorkers,
    finishWorkers,
  };
}

/** An error that a transient outage would throw, once, at a chosen moment. */
export class TransientOutage extends Error {
  override name = 'ProvisionedThroughputExceededException';
}
