import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * One table holds submission records (`SUB#<pk>`), qualifications (`QUAL#<team>#<track>`), workers'
 * heartbeats (`WORKER#<pk>#<worker>`, written by logcopy, expiring by TTL on `expiresAt`) and the
 * shared EvalAI request budget (one item a slot, `BUDGET#evalai#<slot>`), and each challenge's status watch
 * claim (`WATCH#<challenge>`), and the admission ledger of Pitwall's queue (`ADMISSION#ledger`). A sparse index
 * on `active` (present only while a submission needs attention) lets the sweeper find stuck ones.
 */
export const ACTIVE_INDEX = 'active-by-deadline';

/** The heartbeat item of one worker of a submission, written by its logcopy. */
export function workerActivityKey(submissionPk: number, worker: number): string {
  return `WORKER#${submissionPk}#${worker}`;
}

/** The item of one slot of the EvalAI request budget. */
export function budgetSlotKey(slot: number): string {
  return `BUDGET#evalai#${slot}`;
}

/** The item whose `until` says who may run a challenge's EvalAI status watch next. */
export function statusWatchKey(challengePk: number): string {
  return `WATCH#${challengePk}`;
}

export function submissionsTable(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'active', AttributeType: 'S' },
      { AttributeName: 'deadline', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: ACTIVE_INDEX,
        KeySchema: [
          { AttributeName: 'active', KeyType: 'HASH' },
          { AttributeName: 'deadline', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** Powertools' idempotency persistence layer expects a string key `id`. */
export function idempotencyTable(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
  };
}

/** The one item of the admission ledger: the tracks' workers, the teams' places, the holdings, the use. */
export const admissionLedgerKey = 'ADMISSION#ledger';
