import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  CLEARED_ON_RESUME,
  canTransition,
  IllegalTransitionError,
  isTerminal,
  type NewSubmission,
  NotFoundError,
  RecordChangedError,
  type RecordExpectation,
  StaleAttemptError,
  SUBMISSION_STATUSES,
  type SubmissionPatch,
  type SubmissionRecord,
  type SubmissionStatus,
  type SubmissionStore,
  type WorkerActivity,
} from '@pitwall/domain';
import { ACTIVE_INDEX, statusWatchKey, workerActivityKey } from './dynamodb-tables.js';

const ACTIVE = '1';
const SUBMISSION_PREFIX = 'SUB#';
const submissionKey = (pk: number) => ({ pk: `${SUBMISSION_PREFIX}${pk}` });
/** Re-send counters outlive EvalAI's 4-day message retention, then expire. */
const RESEND_TTL = 7 * 24 * 3600;

/** Submission records in DynamoDB; every status change is one conditional update (no transactions). */
export class DynamoDbSubmissionStore implements SubmissionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(submission: NewSubmission): Promise<boolean> {
    const { executionId, at, ...ref } = submission;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...submissionKey(submission.submissionPk),
            ...ref,
            executionId,
            status: 'received',
            history: [{ status: 'received', at, attempt: ref.attempt }],
            active: ACTIVE,
            updatedAt: at,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get(submissionPk: number): Promise<SubmissionRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: submissionKey(submissionPk), ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  async beginResume(submission: NewSubmission, fromAttempt: number): Promise<boolean> {
    const { executionId, at, submissionPk, ...ref } = submission;
    const set = { ...ref, executionId, status: 'resuming', active: ACTIVE, updatedAt: at };
    const names = Object.keys(set);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: submissionKey(submissionPk),
          UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :f${i}`).join(', ')}, #history = list_append(#history, :change) REMOVE ${CLEARED_ON_RESUME.map((_, i) => `#r${i}`).join(', ')}`,
          ConditionExpression: '#status = :failed AND #attempt = :from',
          ExpressionAttributeNames: {
            ...Object.fromEntries(names.map((n, i) => [`#f${i}`, n])),
            ...Object.fromEntries(CLEARED_ON_RESUME.map((n, i) => [`#r${i}`, n])),
            '#status': 'status',
            '#attempt': 'attempt',
            '#history': 'history',
          },
          ExpressionAttributeValues: {
            ...Object.fromEntries(names.map((n, i) => [`:f${i}`, set[n as keyof typeof set]])),
            ':change': [{ status: 'resuming', at, attempt: ref.attempt }],
            ':failed': 'failed',
            ':from': fromAttempt,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async transition(
    submissionPk: number,
    attempt: number,
    to: SubmissionStatus,
    change: { at: string; reason?: string; patch?: SubmissionPatch; expect?: RecordExpectation },
  ): Promise<SubmissionRecord> {
    const from = SUBMISSION_STATUSES.filter((s) => canTransition(s, to));
    if (from.length === 0) throw new IllegalTransitionError('any status', to);
    const fields: Record<string, unknown> = { ...change.patch, status: to, updatedAt: change.at };
    const settled = isTerminal(to) && change.patch?.evalaiReported === true;
    if (!settled) fields.active = ACTIVE;
    const { expression, names, values } = setExpression(fields);
    const { expect } = change;
    const expected = expect
      ? ` AND #status = :expectedStatus AND ${expect.executionId === undefined ? 'attribute_not_exists(#execution)' : '#execution = :expectedExecution'}`
      : '';
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: submissionKey(submissionPk),
          UpdateExpression: `${expression}, #history = list_append(#history, :change)${settled ? ' REMOVE #active' : ''}`,
          // `received` is reached by create only: no status may move to it.
          ConditionExpression: `#attempt = :attempt AND #status IN (${from.map((_, i) => `:from${i}`).join(', ')})${expected}`,
          ExpressionAttributeNames: {
            ...names,
            '#status': 'status',
            '#attempt': 'attempt',
            '#history': 'history',
            ...(settled ? { '#active': 'active' } : {}),
            ...(expect ? { '#execution': 'executionId' } : {}),
          },
          ExpressionAttributeValues: {
            ...values,
            ':attempt': attempt,
            ':change': [{ status: to, at: change.at, attempt, ...(change.reason ? { reason: change.reason } : {}) }],
            ...Object.fromEntries(from.map((s, i) => [`:from${i}`, s])),
            ...(expect ? { ':expectedStatus': expect.status } : {}),
            ...(expect?.executionId !== undefined ? { ':expectedExecution': expect.executionId } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRecord(Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.current(submissionPk, attempt, error);
      if (expect && (current.status !== expect.status || current.executionId !== expect.executionId)) {
        throw new RecordChangedError(
          `submission ${submissionPk} changed since it was read: ${current.status} in ${current.executionId ?? 'no execution'}, expected ${expect.status} in ${expect.executionId ?? 'no execution'}`,
          { cause: error },
        );
      }
      throw new IllegalTransitionError(current.status, to, { cause: error });
    }
  }

  async markReported(submissionPk: number, attempt: number, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: submissionKey(submissionPk),
          UpdateExpression: 'SET evalaiReported = :true, updatedAt = :at REMOVE #active',
          ConditionExpression: '#attempt = :attempt',
          ExpressionAttributeNames: { '#attempt': 'attempt', '#active': 'active' },
          ExpressionAttributeValues: { ':true': true, ':at': at, ':attempt': attempt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await this.current(submissionPk, attempt, error);
      throw error;
    }
  }

  async patch(submissionPk: number, attempt: number, patch: SubmissionPatch, at: string): Promise<void> {
    const { expression, names, values } = setExpression({ ...patch, updatedAt: at });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: submissionKey(submissionPk),
          UpdateExpression: expression,
          ConditionExpression: '#attempt = :attempt',
          ExpressionAttributeNames: { ...names, '#attempt': 'attempt' },
          ExpressionAttributeValues: { ...values, ':attempt': attempt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await this.current(submissionPk, attempt, error);
      throw error;
    }
  }

  async listActive(): Promise<SubmissionRecord[]> {
    return recordsOf(
      paginateQuery(
        { client: this.client },
        {
          TableName: this.tableName,
          IndexName: ACTIVE_INDEX,
          KeyConditionExpression: '#active = :active',
          ExpressionAttributeNames: { '#active': 'active' },
          ExpressionAttributeValues: { ':active': ACTIVE },
        },
      ),
    );
  }

  async listAll(): Promise<SubmissionRecord[]> {
    const records = await recordsOf(
      paginateScan(
        { client: this.client },
        {
          TableName: this.tableName,
          FilterExpression: 'begins_with(pk, :submission)',
          ExpressionAttributeValues: { ':submission': SUBMISSION_PREFIX },
        },
      ),
    );
    return records.sort((a, b) => b.submissionPk - a.submissionPk);
  }

  async countResend(submissionPk: number, attempt: number, at: string): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `RESEND#${submissionPk}#${attempt}` },
        UpdateExpression: 'ADD #count :one SET updatedAt = :at, expiresAt = :expires',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1, ':at': at, ':expires': Math.floor(Date.parse(at) / 1000) + RESEND_TTL },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.count ?? 1);
  }

  async workerActivity(submissionPk: number, workers: readonly number[]): Promise<WorkerActivity[]> {
    if (workers.length === 0) return [];
    const { Responses } = await this.client.send(
      new BatchGetCommand({
        RequestItems: {
          [this.tableName]: {
            Keys: workers.map((w) => ({ pk: workerActivityKey(submissionPk, w) })),
            ConsistentRead: true,
          },
        },
      }),
    );
    // The items come from a pod that runs the participant's code beside them: read, not trusted.
    return (Responses?.[this.tableName] ?? []).flatMap((item) => {
      const { worker, attempt, heartbeatAt, lastOutputAt } = item as Record<string, unknown>;
      if (typeof worker !== 'number' || typeof attempt !== 'number' || typeof heartbeatAt !== 'string') return [];
      return [{ worker, attempt, heartbeatAt, ...(typeof lastOutputAt === 'string' ? { lastOutputAt } : {}) }];
    });
  }

  async claimStatusWatch(challengePk: number, at: string, until: string): Promise<boolean> {
    try {
      await this.client.send(
        // An update creates the item too, and needs no PutItem permission.
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: statusWatchKey(challengePk) },
          UpdateExpression: 'SET #until = :until',
          ConditionExpression: 'attribute_not_exists(pk) OR #until <= :at',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':at': at, ':until': until },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async hasQualification(teamPk: number, track: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `QUAL#${teamPk}#${track}` }, ConsistentRead: true }),
    );
    return Item !== undefined;
  }

  async grantQualification(teamPk: number, track: string, submissionPk: number, at: string): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `QUAL#${teamPk}#${track}`, teamPk, track, submissionPk, at },
      }),
    );
  }

  /** After a refused condition: the record as it is, or the error that explains the refusal. */
  private async current(submissionPk: number, attempt: number, cause: unknown): Promise<SubmissionRecord> {
    const record = await this.get(submissionPk);
    if (!record) throw new NotFoundError(`submission ${submissionPk} has no record`, { cause });
    if (record.attempt !== attempt) {
      throw new StaleAttemptError(`submission ${submissionPk} is at attempt ${record.attempt}, not ${attempt}`, {
        cause,
      });
    }
    return record;
  }
}

function setExpression(fields: Record<string, unknown>) {
  const entries = Object.entries(fields).filter(([, value]) => value !== undefined);
  return {
    expression: `SET ${entries.map((_, i) => `#p${i} = :p${i}`).join(', ')}`,
    names: Object.fromEntries(entries.map(([key], i) => [`#p${i}`, key])),
    values: Object.fromEntries(entries.map(([, value], i) => [`:p${i}`, value])),
  };
}

/** The submission records of every page a query or scan returns. */
async function recordsOf(pages: AsyncIterable<{ Items?: Record<string, unknown>[] }>): Promise<SubmissionRecord[]> {
  const records: SubmissionRecord[] = [];
  for await (const page of pages) records.push(...(page.Items ?? []).map(toRecord));
  return records;
}

function toRecord(item: Record<string, unknown>): SubmissionRecord {
  const { pk: _pk, active: _active, ...record } = item;
  return record as unknown as SubmissionRecord;
}
