import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { workerActivityKey } from '@pitwall/adapters';
import type { ProgressSink, WorkerProgress } from './logcopy.js';

/** One item per worker (`WORKER#<pk>#<worker>`) beside the submission's record, expiring after a week. */
export class DynamoDbProgressSink implements ProgressSink {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async record(progress: WorkerProgress): Promise<void> {
    const expiresAt = Math.floor(Date.parse(progress.heartbeatAt) / 1000) + 7 * 24 * 3600;
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: workerActivityKey(progress.submissionPk, progress.worker), ...progress, expiresAt },
      }),
    );
  }
}
