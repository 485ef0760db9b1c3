import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type RequestBudget, type RequestPriority, windowLimit } from './request-budget.js';

/**
 * The EvalAI request budget shared by every Lambda and execution: one counter per one-minute window in
 * DynamoDB, taken with a conditional increment so that concurrent takers never overspend it.
 */
export class DynamoDbRequestBudget implements RequestBudget {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly requestsPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  async take(priority: RequestPriority): Promise<boolean> {
    const window = Math.floor(this.now() / 60_000);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `BUDGET#evalai#${window}` },
          UpdateExpression: 'SET #expires = :expires ADD #used :one',
          ConditionExpression: 'attribute_not_exists(#used) OR #used < :limit',
          ExpressionAttributeNames: { '#used': 'used', '#expires': 'expiresAt' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':limit': windowLimit(this.requestsPerMinute, priority),
            ':expires': (window + 10) * 60,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
