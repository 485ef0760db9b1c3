import {
  type HandOverInput,
  isTerminal,
  type SubmissionRecord,
  type SubmissionStore,
  submissionRefOf,
} from '@pitwall/domain';
import type { EvalAiEmulator } from '@pitwall/emulators';
import { executionName, type LocalEngine } from './engine.js';

export interface Recovery {
  readonly store: SubmissionStore;
  readonly engine: LocalEngine;
  /** The embedded EvalAI, when the runtime has one. */
  readonly emulator: EvalAiEmulator | undefined;
  /** Sends a message to the submissions queue as EvalAI does. */
  publish(message: string): Promise<void>;
}

/**
 * After a restart, through the state machine's own entry points only: a submission registered but not yet
 * queued runs its execution again from Register, under the same name, so Register knows it for its own and
 * checks it again (a cancel on EvalAI while Pitwall was down stops it there); one already queued or running
 * gets a fresh execution that enters at the poll loop, as a hand-over does; and submissions EvalAI still
 * shows as submitted without a record get their message again (the queue's messages did not survive).
 */
export async function recoverSubmissions({ store, engine, emulator, publish }: Recovery): Promise<void> {
  for (const record of await store.listActive()) {
    if (isTerminal(record.status)) continue; // failed but not yet on EvalAI: the sweeper reports it
    if (record.status === 'received' || record.status === 'resuming') {
      await engine.start([redeliveryOf(record)], executionName(record.executionId));
      continue;
    }
    const current = await store.get(record.submissionPk);
    const handover: HandOverInput = {
      registration: { action: 'run', submission: submissionRefOf(record) },
      plan: {
        workerCount: current?.plan?.workerCount,
        workers: current?.plan?.workers.map((w) => ({ worker: w.worker })),
      },
      poll: { phase: 'running', turn: 0, waitSeconds: 1 },
    };
    const executionId = await engine.start({ handover });
    await store.patch(record.submissionPk, record.attempt, { executionId }, new Date().toISOString());
  }
  if (!emulator) return;
  for (const submission of emulator.submissions.values()) {
    if (submission.status === 'submitted' && !(await store.get(submission.id))) {
      await publish(emulator.messageFor(submission.id));
    }
  }
}

/** The message EvalAI sent for a registered submission, as the Pipe delivers it. */
function redeliveryOf(record: SubmissionRecord) {
  const body = JSON.stringify({
    challenge_pk: String(record.challengePk),
    phase_pk: String(record.phasePk),
    submission_pk: record.submissionPk,
    submitted_image_uri: record.imageUri,
  });
  return { messageId: `recovered-${record.submissionPk}-${record.attempt}`, body, eventSource: 'aws:sqs' };
}
