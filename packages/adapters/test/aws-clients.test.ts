import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createDocumentClient, createS3Client, createSqsClient } from '../src/index.js';

const VPC_ENDPOINT = 'https://bucket.vpce-0123456789abcdef0-a1b2c3d4.s3.us-west-2.vpce.amazonaws.com';
const saved = { ...process.env };

beforeEach(() => {
  // What the credential chain finds in a pod: here, the environment's key.
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFROMTHECHAIN';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret-from-the-chain';
});
afterEach(() => {
  process.env = { ...saved };
});

describe('AWS clients through another endpoint', () => {
  it.each([
    ['S3', () => createS3Client({ region: 'us-west-2', endpoint: VPC_ENDPOINT })],
    ['DynamoDB', () => createDocumentClient({ region: 'us-west-2', endpoint: VPC_ENDPOINT })],
    ['SQS', () => createSqsClient({ region: 'us-west-2', endpoint: VPC_ENDPOINT })],
  ] as const)('%s signs with the credential chain’s key, not a local server’s', async (_name, make) => {
    const client = make();
    const credentials = await client.config.credentials();
    expect(credentials.accessKeyId).toBe('AKIAFROMTHECHAIN');
    client.destroy();
  });

  it('signs with the credentials given, when given', async () => {
    const client = createS3Client({
      region: 'us-west-2',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    expect((await client.config.credentials()).accessKeyId).toBe('S3RVER');
    client.destroy();
  });
});
