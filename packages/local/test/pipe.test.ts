import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSqsServer } from 'local-aws-sqs';
import { SqsPipe } from '../src/index.js';

let server: Awaited<ReturnType<typeof createSqsServer>>;
let sqs: SQSClient;

beforeAll(async () => {
  server = await createSqsServer({ port: 0, hostname: '127.0.0.1', region: 'eu-west-1' });
  const { port } = server.address() as { port: number };
  sqs = new SQSClient({
    region: 'eu-west-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
});
afterAll(async () => {
  sqs.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function queues(name: string) {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl ?? '';
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] })))
    .Attributes?.QueueArn;
  const queue =
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) },
        }),
      )
    ).QueueUrl ?? '';
  return { queue, dlq };
}

describe('SqsPipe against an SQS server', () => {
  it('starts one execution per message with the SQS record as input, and deletes the message', async () => {
    const { queue } = await queues('pipe-ok');
    const inputs: unknown[] = [];
    const pipe = new SqsPipe(sqs, queue, 'arn:aws:sqs:eu-west-1:1:pipe-ok', {
      start: async (input) => {
        inputs.push(input);
        return 'exec';
      },
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: '{"submission_pk": 1}' }));
    expect(await pipe.pollOnce()).toBe(1);
    expect(inputs).toEqual([[expect.objectContaining({ body: '{"submission_pk": 1}', eventSource: 'aws:sqs' })]]);
    expect(await pipe.pollOnce()).toBe(0);
  });

  it('leaves a message it cannot start on the queue, and the queue moves it to the DLQ after the max receive count', async () => {
    const { queue, dlq } = await queues('pipe-broken');
    const pipe = new SqsPipe(
      sqs,
      queue,
      'arn:aws:sqs:eu-west-1:1:pipe-broken',
      {
        start: async () => {
          throw new Error('the state machine is unavailable');
        },
      },
      0,
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: 'm' }));
    for (let i = 0; i < 5; i++) await pipe.pollOnce();
    expect(pipe.errors[0]).toContain('the state machine is unavailable');
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10 }));
    expect(dead.Messages?.map((m) => m.Body)).toEqual(['m']);
  });
});
