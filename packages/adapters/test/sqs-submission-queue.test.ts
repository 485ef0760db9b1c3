import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubmissionQueueUnavailableError } from '@pitwall/domain';
import { MemorySubmissionQueue } from '@pitwall/domain/testing';
import { createSqsServer } from 'local-aws-sqs';
import { createSqsClient, openSubmissionQueue, queueOf, SqsSubmissionQueue } from '../src/index.js';

let server: Awaited<ReturnType<typeof createSqsServer>>;
let sqs: SQSClient;
let endpoint = '';

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', region: 'eu-west-1' });
  const { port } = server.address() as { port: number };
  endpoint = `http://127.0.0.1:${port}`;
  sqs = createSqsClient({
    region: 'eu-west-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  sqs.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function receive(queueUrl: string) {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, AttributeNames: ['All'] }),
  );
  return Messages ?? [];
}

// One contract, two queues: the in-memory double the unit tier uses delivers what SQS delivers.
let queues = 0;
describe.each([
  [
    'SqsSubmissionQueue against a local SQS server',
    async () => {
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: `contract-${++queues}` }))).QueueUrl ?? '';
      return { queue: new SqsSubmissionQueue(sqs, url), bodies: async () => (await receive(url)).map((m) => m.Body) };
    },
  ],
  [
    'MemorySubmissionQueue',
    async () => {
      const queue = new MemorySubmissionQueue();
      return { queue, bodies: async () => queue.sent.map((m) => m.body) };
    },
  ],
] as const)('the submission queue contract: %s', (_, makeQueue) => {
  it('delivers each message sent, body as it is, in order', async () => {
    const { queue, bodies } = await makeQueue();
    await queue.send({ body: '{"submission_pk": 4}', submissionPk: 4, deduplicationId: 'a' });
    await queue.send({ body: '{"submission_pk": 5}', submissionPk: 5, deduplicationId: 'b' });
    expect(await bodies()).toEqual(['{"submission_pk": 4}', '{"submission_pk": 5}']);
  });
});

describe('SqsSubmissionQueue against a local SQS server', () => {
  it('derives the queue URL and region from its ARN, in every partition', () => {
    expect(queueOf('arn:aws:sqs:us-west-2:123456789012:q').region).toBe('us-west-2');
    expect(queueOf('arn:aws:sqs:us-west-2:123456789012:pitwall-prod-submissions').url).toBe(
      'https://sqs.us-west-2.amazonaws.com/123456789012/pitwall-prod-submissions',
    );
    expect(queueOf('arn:aws-cn:sqs:cn-north-1:123456789012:evalai.fifo').url).toBe(
      'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/evalai.fifo',
    );
  });

  it('opens a queue by name, asking SQS for its URL, and says in one line when there is none', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'by-name' }))).QueueUrl ?? '';
    const queue = await openSubmissionQueue(sqs, { name: 'by-name' });
    await queue.send({ body: 'n', submissionPk: 3, deduplicationId: 'n' });
    expect((await receive(url)).map((m) => m.Body)).toEqual(['n']);
    await expect(openSubmissionQueue(sqs, { name: 'absent' })).rejects.toThrow(
      /^cannot reach the submissions queue absent: /,
    );
  });

  it('sends the body as it is to a standard queue', async () => {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'submissions' }))).QueueUrl ?? '';
    await new SqsSubmissionQueue(sqs, url).send({
      body: '{"submission_pk": 4}',
      submissionPk: 4,
      deduplicationId: 'd',
    });
    expect((await receive(url)).map((m) => m.Body)).toEqual(['{"submission_pk": 4}']);
  });

  it('gives a FIFO queue a group per submission and the deduplication id', async () => {
    const url =
      (await sqs.send(new CreateQueueCommand({ QueueName: 'submissions.fifo', Attributes: { FifoQueue: 'true' } })))
        .QueueUrl ?? '';
    const queue = new SqsSubmissionQueue(sqs, url);
    await queue.send({ body: 'a', submissionPk: 9, deduplicationId: 'reconcile-9-1' });
    await queue.send({ body: 'a', submissionPk: 9, deduplicationId: 'reconcile-9-1' }); // a duplicate: dropped
    await queue.send({ body: 'b', submissionPk: 9, deduplicationId: 'reconcile-9-2' });
    const messages = await receive(url);
    expect(messages.map((m) => m.Body)).toEqual(['a', 'b']);
    expect(messages[0]?.Attributes?.MessageGroupId).toBe('submission-9');
  });

  it('turns a refused send into a named, transient error', async () => {
    const error = await new SqsSubmissionQueue(sqs, `${endpoint}/000000000000/no-such-queue`)
      .send({ body: 'x', submissionPk: 1, deduplicationId: 'd' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubmissionQueueUnavailableError);
    expect((error as SubmissionQueueUnavailableError).transient).toBe(true);
    expect((error as Error).message).toContain('could not send the message of submission 1');
  });
});
