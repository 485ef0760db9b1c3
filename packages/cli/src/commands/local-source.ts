import { EvalAiClient } from '@pitwall/adapters';
import { refuseCancelOfEnded } from '@pitwall/domain';
import { LOCAL_CHALLENGE_PK, LOCAL_HOST_TOKEN, LOCAL_PHASE_PK } from '@pitwall/local';
import { UsageError } from '../io.js';
import { leaderboardOf } from '../leaderboard-view.js';
import { askLocalEvalAi, onLocalStack, type RunningStack, runningEndpoints } from '../local-stack.js';
import type { Source } from './sources.js';
import { queueAt, storesAt } from './store-clients.js';

/** The running local stack (`pitwall local up`), as the endpoints file it left says. */
export function localSource(): Source {
  const stack: RunningStack = runningEndpoints();
  const evalai = new EvalAiClient({ baseUrl: stack.evalai, token: LOCAL_HOST_TOKEN });
  const stores = storesAt(stack);
  const { store } = stores;
  return {
    ...stores,
    evalaiStatus: async (pk) => (await onLocalStack(stack.evalai, () => evalai.getSubmission(pk))).status,
    evalaiHost: () => evalai,
    challenge: stack.challenge,
    queue: async () => queueAt(stack),
    leaderboard: async () =>
      (await onLocalStack(stack.evalai, () => leaderboardOf(stack.evalai, stack.splitId))).map((entry) => ({
        ...entry,
        phasePk: LOCAL_PHASE_PK,
      })),
    cancel: async (pk) => {
      await refuseCancelOfEnded({ store, evalai }, pk);
      const response = await askLocalEvalAi(
        stack,
        `${stack.evalai}/api/jobs/challenges/${LOCAL_CHALLENGE_PK}/submissions/${pk}/update_submission_meta/`,
        {
          method: 'PATCH',
          headers: { Authorization: `Bearer ${stack.participantToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ status: 'cancelled' }),
        },
      );
      if (!response.ok) throw new UsageError(`EvalAI refused to cancel submission ${pk} (${response.status})`);
      return `submission ${pk} cancelled`;
    },
    read: (work) => onLocalStack(stack.dynamodb, work),
  };
}
