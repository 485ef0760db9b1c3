import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDbRequestBudget, EvalAiClient } from '@pitwall/adapters';
import type { EvalAiHost, EvalAiQueueProxy } from '@pitwall/domain';
import { ConfigurationError } from './config.js';
import type { AdapterFactory, SharedClients } from './control-plane.js';
import { countEvalAiAnswer } from './observability.js';

/** EvalAI's host API, with the token from Secrets Manager and the request budget shared through DynamoDB. */
async function evalAiClient({ config, documents }: SharedClients): Promise<EvalAiClient> {
  const token = config.evalai.token ?? (await getSecret(config.evalai.tokenSecret ?? '', { maxAge: 300 }));
  if (typeof token !== 'string' || token === '') {
    throw new ConfigurationError(`the EvalAI token secret ${config.evalai.tokenSecret} is empty`);
  }
  return new EvalAiClient({
    baseUrl: config.evalai.apiServer,
    token,
    challengePk: config.challenge.challengePk,
    budget: new DynamoDbRequestBudget(documents, config.table, config.evalai.requestsPerMinute),
    onAnswer: countEvalAiAnswer,
  });
}

export const evalAiHost: AdapterFactory<EvalAiHost> = evalAiClient;

/** The challenge's queue through EvalAI's REST proxy, on the same token and budget. */
export const evalAiIntake: AdapterFactory<EvalAiQueueProxy> = async (shared) => {
  const { queueName } = shared.config.evalai;
  if (!queueName) throw new ConfigurationError('set EVALAI_QUEUE_NAME: the relay reads that queue through EvalAI');
  return (await evalAiClient(shared)).queueProxy(queueName);
};
