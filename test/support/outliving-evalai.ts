import { EvalAiEmulator } from '@pitwall/emulators';
import {
  LEADERBOARD_LABELS,
  LOCAL_CHALLENGE_PK,
  LOCAL_HOST_TOKEN,
  LOCAL_PHASE_PK,
  type LocalRuntime,
} from '@pitwall/local';

/** An EvalAI that outlives the local runtimes started against it, sending its messages to the current one. */
export async function outlivingEvalAi(current: () => LocalRuntime | undefined): Promise<EvalAiEmulator> {
  const evalai = new EvalAiEmulator({
    challengePk: LOCAL_CHALLENGE_PK,
    phases: [{ pk: LOCAL_PHASE_PK, codename: 'local-SENSORS', splits: ['leaderboard'] }],
    labels: LEADERBOARD_LABELS,
    hostToken: LOCAL_HOST_TOKEN,
    requestsPerMinute: 100_000,
    onSubmission: async (_s, message) => current()?.publish(message),
  });
  await evalai.start();
  return evalai;
}
