import { z } from 'zod';
import { failureClassSchema } from './failure-class.js';

/**
 * What crosses the state machine: every payload a Task receives or returns that another state reads. The
 * types are inferred from these schemas, so a handler that parses its input with one gets exactly the type
 * its use case takes.
 */

const pk = z.number().int().positive();

/** What the state machine carries between states for one attempt: ids and small facts only. */
export const submissionRefSchema = z.object({
  submissionPk: pk,
  challengePk: pk,
  phasePk: pk,
  attempt: pk,
  track: z.string(),
  teamPk: pk,
  teamName: z.string(),
  imageUri: z.string(),
  /** ISO time of registration (of this attempt). */
  registeredAt: z.string(),
  /**
   * ISO time after which the attempt is overdue. At registration the latest it could legitimately end (its
   * queue timeout plus the evaluation time left); once a worker pod runs, that start plus the time left. The
   * record holds the current value; what an execution carries is the one at registration.
   */
  deadline: z.string(),
});
export type SubmissionRef = Readonly<z.infer<typeof submissionRefSchema>>;

export const messageIdsSchema = z.object({ submissionPk: pk, challengePk: pk });
export type MessageIds = Readonly<z.infer<typeof messageIdsSchema>>;

const runRegistrationSchema = z.object({ action: z.literal('run'), submission: submissionRefSchema });

/** Register's answer: run it, skip it, reject it with a reason, or the message could not be read. */
export const registrationSchema = z.discriminatedUnion('action', [
  runRegistrationSchema,
  z.object({ action: z.literal('skip'), reason: z.string() }),
  z.object({ action: z.literal('reject'), reason: z.string(), submission: submissionRefSchema }),
  /** The message cannot be read; `ids` when it still names a submission (for HandleFailure). */
  z.object({ action: z.literal('invalid'), reason: z.string(), ids: messageIdsSchema.optional() }),
]);
export type Registration = z.infer<typeof registrationSchema>;

export const POLL_PHASES = ['running', 'done', 'failed', 'cancelled', 'timed_out', 'handover'] as const;
export type PollPhase = (typeof POLL_PHASES)[number];

/** The poll loop's state between two observations. */
export const pollStateSchema = z.object({
  phase: z.enum(POLL_PHASES),
  turn: z.number().int().min(0),
  waitSeconds: z.number().min(0),
  reason: z.string().optional(),
  failureClass: failureClassSchema.optional(),
  failedWorkers: z.array(z.number().int().min(0)).readonly().optional(),
  /** How many hand-overs brought the run to this execution: names the next one. */
  handovers: z.number().int().min(0).optional(),
});
export type PollState = Readonly<z.infer<typeof pollStateSchema>>;

/**
 * AwaitAdmission's answer: admitted (go on to Launch), still waiting (look again after waitSeconds), cancelled,
 * or refused (the team's GPU-hour budget; the reason is for the participant).
 */
export const admissionStateSchema = z.object({
  phase: z.enum(['waiting', 'admitted', 'cancelled', 'refused']),
  turn: z.number().int().min(0),
  waitSeconds: z.number().min(0),
  reason: z.string().optional(),
});
export type AdmissionState = Readonly<z.infer<typeof admissionStateSchema>>;

export const TERMINAL_STATUSES = ['finished', 'failed', 'cancelled'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

/** How an attempt ended, as Collect decided and Publish reports it. */
export const collectedOutcomeSchema = z.object({
  status: z.enum(TERMINAL_STATUSES),
  /** Why, in words for the participant (failed/cancelled). */
  reason: z.string().optional(),
  failureClass: failureClassSchema.optional(),
  /** A qualifier track passed: the track the team may now enter. */
  grantsQualification: z.string().optional(),
});
export type CollectedOutcome = Readonly<z.infer<typeof collectedOutcomeSchema>>;

/** The error a Catch put in the state (`Error` and `Cause`, as Step Functions names them). */
export const caughtErrorSchema = z.looseObject({ Error: z.string().optional(), Cause: z.string().optional() });

const withSubmission = z.object({ submission: submissionRefSchema });

/** Each Task's input, as the ASL's Parameters build it. */
export const taskInputSchemas = {
  register: z.object({ event: z.unknown(), executionId: z.string().min(1) }),
  submission: withSubmission,
  launchWorker: withSubmission.extend({ worker: z.number().int().min(0) }),
  awaitAdmission: withSubmission.extend({
    admission: z
      .object({ turn: z.number().int().min(0).optional() })
      .loose()
      .optional(),
  }),
  observe: withSubmission.extend({
    poll: z
      .object({ turn: z.number().int().min(0).optional(), handovers: z.number().int().min(0).optional() })
      .loose()
      .optional(),
  }),
  collect: withSubmission.extend({ poll: pollStateSchema }),
  publish: withSubmission.extend({ outcome: collectedOutcomeSchema }),
  handOver: z.object({ registration: runRegistrationSchema.loose(), plan: z.unknown(), poll: pollStateSchema }),
  handleFailure: z.object({
    executionId: z.string().min(1),
    state: z.looseObject({
      event: z.unknown().optional(),
      registration: registrationSchema.optional(),
      error: caughtErrorSchema,
    }),
  }),
} as const;
export type HandOverInput = z.infer<typeof taskInputSchemas.handOver>;
