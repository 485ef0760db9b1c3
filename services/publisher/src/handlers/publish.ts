import { publishOutcome } from '@pitwall/domain';
import {
  countSubmissionEnded,
  lambdaHandler,
  parseTaskInput,
  recordAttemptCost,
  type TaskHandler,
} from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { s3ArtifactStore } from '@pitwall/lambda-kit/s3';
import { TASKS } from '@pitwall/workflow';

/**
 * The terminal PUT to EvalAI. Safe to run again as it stands, with no idempotency record: a settled record
 * returns at once, EvalAI upserts a result per submission and split, and granting a qualification is a
 * put. An idempotency record left in progress by a try that was killed would block every retry.
 */
export const publish: TaskHandler<'Publish', 'artifacts' | 'evalai'> =
  ({ plane }) =>
  async (event) => {
    const input = parseTaskInput(TASKS.Publish.input, event);
    const { status, cost } = await publishOutcome(plane, input);
    // A cancel seen at the last moment stands over the outcome Collect decided.
    const failureClass = status === 'cancelled' ? 'cancelled' : input.outcome.failureClass;
    countSubmissionEnded({ status, ...(failureClass ? { failureClass } : {}) });
    recordAttemptCost(cost);
    return { status };
  };

export const handler = lambdaHandler(publish, { artifacts: s3ArtifactStore, evalai: evalAiHost });
