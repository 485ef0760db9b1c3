import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { budgetSlotKey } from './dynamodb-tables.js';
import {
  BUDGET_WINDOW_MS,
  type BudgetGrant,
  type BudgetLease,
  countsUntilAfter,
  freeSlots,
  type RequestBudget,
  type RequestPriority,
  windowLimit,
} from './request-budget.js';

/** How many free slots one read of the slots tries (each try is one conditional write), and how many reads. */
const TRIES = 4;
const ROUNDS = 20;

/**
 * The EvalAI request budget shared by every Lambda and execution: one item per slot in DynamoDB
 * (request-budget.ts). A take reads the slots it may use, then claims a free one with a conditional write,
 * so two takers never hold the same slot; the lease id makes a late release harmless.
 */
export class DynamoDbRequestBudget implements RequestBudget {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly requestsPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  async take(priority: RequestPriority, maxRequestMs: number): Promise<BudgetGrant> {
    // Losing every claim to concurrent takers means reading again: a slot seen free may still be left.
    for (let round = 0; round < ROUNDS; round++) {
      const countsUntil = await this.read(windowLimit(this.requestsPerMinute, priority));
      if (!countsUntil) return { granted: false, retryAfterMs: 1000 }; // DynamoDB throttled the read
      const now = this.now();
      const { free, retryAfterMs } = freeSlots(countsUntil, now);
      if (free.length === 0) return { granted: false, retryAfterMs };
      for (const slot of free.slice(0, TRIES)) {
        const leaseId = crypto.randomUUID();
        if (await this.claim(slot, leaseId, now, now + maxRequestMs + BUDGET_WINDOW_MS)) {
          return { granted: true, lease: { release: (outcome) => this.release(slot, leaseId, outcome) } };
        }
      }
    }
    return { granted: false, retryAfterMs: 100 };
  }

  /** When each usable slot stops counting (0: never used); undefined when DynamoDB left keys unread. */
  private async read(slots: number): Promise<number[] | undefined> {
    const keys = Array.from({ length: slots }, (_, slot) => ({ pk: budgetSlotKey(slot) }));
    const read = await this.client.send(
      new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
    );
    if (Object.keys(read.UnprocessedKeys ?? {}).length > 0) return undefined;
    const countsUntil = new Array<number>(slots).fill(0);
    for (const item of read.Responses?.[this.tableName] ?? []) {
      const slot = Number(String(item.pk).split('#').at(-1));
      if (slot < slots) countsUntil[slot] = Number(item.countsUntil ?? 0);
    }
    return countsUntil;
  }

  private async claim(slot: number, leaseId: string, now: number, countsUntil: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: budgetSlotKey(slot) },
          UpdateExpression: 'SET #until = :until, #lease = :lease',
          ConditionExpression: 'attribute_not_exists(#until) OR #until <= :now',
          ExpressionAttributeNames: { '#until': 'countsUntil', '#lease': 'lease' },
          ExpressionAttributeValues: { ':until': countsUntil, ':lease': leaseId, ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The request is over: its slot counts until a window after now (or after it could still arrive). */
  private async release(slot: number, leaseId: string, outcome: Parameters<BudgetLease['release']>[0]): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: budgetSlotKey(slot) },
          UpdateExpression: 'SET #until = :until',
          ConditionExpression: '#lease = :lease',
          ExpressionAttributeNames: { '#until': 'countsUntil', '#lease': 'lease' },
          ExpressionAttributeValues: { ':until': countsUntilAfter(this.now(), outcome), ':lease': leaseId },
        }),
      );
    } catch (error) {
      // Another taker holds the slot now: ours had run out its worst case already.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
