import { S3RVER_CREDENTIALS } from '@pitwall/emulators';
import { LOCAL_BUCKET, LOCAL_REGION, LOCAL_TABLE } from './local-challenge.js';

/** What each function's environment holds in AWS, with this machine's servers as its endpoints. */
export function functionEnvironment(input: {
  readonly stores: { readonly dynamodb: { endpoint: string }; readonly s3: { endpoint: string } };
  readonly challenge: unknown;
  readonly evalai: { readonly url: string; readonly token: string };
}): Readonly<Record<string, string>> {
  return {
    AWS_REGION: LOCAL_REGION,
    // The functions' role, in AWS; here the key s3rver takes (dynalite takes any).
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    PITWALL_TABLE: LOCAL_TABLE,
    PITWALL_IDEMPOTENCY_TABLE: `${LOCAL_TABLE}-idempotency`,
    PITWALL_BUCKET: LOCAL_BUCKET,
    PITWALL_CHALLENGE_CONFIG: JSON.stringify(input.challenge),
    PITWALL_DYNAMODB_ENDPOINT: input.stores.dynamodb.endpoint,
    PITWALL_S3_ENDPOINT: input.stores.s3.endpoint,
    EVALAI_API_SERVER: input.evalai.url,
    EVALAI_TOKEN: input.evalai.token,
  };
}
