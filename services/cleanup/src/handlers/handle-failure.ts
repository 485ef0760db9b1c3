import { handleFailure as fail } from '@pitwall/domain';
import { lambdaHandler, parseTaskInput, TASKS, type TaskHandler } from '@pitwall/lambda-kit';
import { evalAiHost } from '@pitwall/lambda-kit/evalai';
import { kubernetesJobRunner } from '@pitwall/lambda-kit/kubernetes';

/** Where every Catch of the state machine leads: the whole state comes in, with `error`, and the execution's id. */
export const handleFailure: TaskHandler<'HandleFailure', 'evalai' | 'jobs'> =
  ({ plane }) =>
  async (event) => {
    const { state, executionId } = parseTaskInput(TASKS.HandleFailure.input, event);
    return fail(plane, { registration: state.registration, event: state.event, error: state.error, executionId });
  };

export const handler = lambdaHandler(handleFailure, { evalai: evalAiHost, jobs: kubernetesJobRunner });
