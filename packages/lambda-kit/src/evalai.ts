import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDbRequestBudget, EvalAiClient } from '@pitwall/adapters';
import type { EvalAiHost } from '@pitwall/domain';
import { ConfigurationError } from './config.js';
import type { AdapterFactory } from './control-plane.js';

/** EvalAI's host API, with the token from Secrets Manager and the request budget shared through DynamoDB. */
export const evalAiHost: AdapterFactory<EvalAiHost> = async ({ config, documents }) => {
  const token = config.evalai.token ?? (await getSecret(config.evalai.tokenSecret ?? '', { maxAge: 300 }));
  if (typeof token !== 'string' || token === '') {
    throw new ConfigurationError(`the EvalAI token secret ${config.evalai.tokenSecret} is empty`);
  }
  return new EvalAiClient({
    baseUrl: config.evalai.apiServer,
    token,
    challengePk: config.challenge.challengePk,
    budget: new DynamoDbRequestBudget(documents, config.table, config.evalai.requestsPerMinute),
  });
};
