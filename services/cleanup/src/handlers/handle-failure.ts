import { handleFailure as fail } from '@pitwall/domain';
import {
  countSubmissionEnded,
  lambdaHandler,
  parseTaskInput,
  recordAttemptCost,
  type TaskHandler,
} from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';
import { TASKS } from '@pitwall/workflow';

/** Where every Catch of the state machine leads: the whole state comes in, with `error`, and the execution's id. */
export const handleFailure: TaskHandler<'HandleFailure', 'evalai' | 'jobs'> =
  ({ plane }) =>
  async (event) => {
    const { state, executionId } = parseTaskInput(TASKS.HandleFailure.input, event);
    const ended = await fail(plane, {
      registration: state.registration,
      event: state.event,
      error: state.error,
      executionId,
    });
    if (ended.status === 'unreported') return ended;
    const { cost, ...result } = ended;
    countSubmissionEnded(result);
    recordAttemptCost(cost);
    return result;
  };

export const handler = lambdaHandler(handleFailure, { evalai: evalAiHost, jobs: kubernetesJobRunner });
