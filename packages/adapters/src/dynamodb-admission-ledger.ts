import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AdmissionClaim,
  type AdmissionHolding,
  type AdmissionLedger,
  type AdmissionLedgerState,
  type AdmissionLimits,
  RecordChangedError,
  type TeamUsage,
  teamPhaseKey,
  usageAfterRelease,
} from '@pitwall/domain';
import { admissionLedgerKey } from './dynamodb-tables.js';

/** Tries of a release that lost its conditional write to another at once (each a fresh read). */
const RELEASE_TRIES = 10;

interface LedgerItem {
  readonly trackUsed?: Record<string, number>;
  readonly teamUsed?: Record<string, number>;
  readonly holdings?: Record<string, AdmissionHolding>;
  readonly usage?: Record<string, TeamUsage>;
}

/**
 * The admission ledger as one DynamoDB item: each track's workers in use, each team's places per phase,
 * the holdings and the teams' decayed use. A take is one conditional update (the track and the team both
 * have room, the submission holds nothing yet), and a take this attempt holds already is its admission; a release is one too, conditional on the holding still
 * being there and the team's use being what was read. One item keeps the reads whole and the limits exact:
 * the queue admits a few submissions a minute, far below an item's write rate.
 */
export class DynamoDbAdmissionLedger implements AdmissionLedger {
  /** Whether this ledger made sure of the item's maps already: they are never removed once there. */
  private mapsEnsured = false;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(claim: AdmissionClaim, limits: AdmissionLimits, at: string): Promise<boolean> {
    const trackLeft = limits.trackWorkers - claim.workers;
    const teamLeft = limits.teamPlaces - 1;
    if (trackLeft < 0 || teamLeft < 0) return false;
    await this.ensureMaps();
    const holding: AdmissionHolding = { ...claim, takenAt: at };
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: admissionLedgerKey },
          UpdateExpression:
            'SET trackUsed.#track = if_not_exists(trackUsed.#track, :zero) + :workers, teamUsed.#team = if_not_exists(teamUsed.#team, :zero) + :one, holdings.#pk = :holding',
          ConditionExpression:
            'attribute_not_exists(holdings.#pk) AND (attribute_not_exists(trackUsed.#track) OR trackUsed.#track <= :trackLeft) AND (attribute_not_exists(teamUsed.#team) OR teamUsed.#team <= :teamLeft)',
          ExpressionAttributeNames: {
            '#track': claim.track,
            '#team': teamPhaseKey(claim),
            '#pk': String(claim.submissionPk),
          },
          ExpressionAttributeValues: {
            ':zero': 0,
            ':one': 1,
            ':workers': claim.workers,
            ':holding': holding,
            ':trackLeft': trackLeft,
            ':teamLeft': teamLeft,
          },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Held by this very attempt: an earlier take of it was applied and its answer lost (the SDK's retry then
      // meets the condition), so this is its admission. Full, or held by another attempt: not admitted.
      return (await this.item()).holdings?.[String(claim.submissionPk)]?.attempt === claim.attempt;
    }
  }

  async release(submissionPk: number, attempt: number, at: string, halfLifeSeconds: number): Promise<boolean> {
    for (let tries = 0; tries < RELEASE_TRIES; tries++) {
      const item = await this.item();
      const holding = item.holdings?.[String(submissionPk)];
      if (!holding || holding.attempt !== attempt) return false;
      const before = item.usage?.[String(holding.teamPk)];
      const after = usageAfterRelease(before, holding, at, halfLifeSeconds);
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: admissionLedgerKey },
            UpdateExpression:
              'SET trackUsed.#track = trackUsed.#track - :workers, teamUsed.#team = teamUsed.#team - :one, #usage.#teamPk = :after REMOVE holdings.#pk',
            ConditionExpression: `holdings.#pk.#attempt = :attempt AND ${before ? '#usage.#teamPk.#at = :beforeAt' : 'attribute_not_exists(#usage.#teamPk)'}`,
            ExpressionAttributeNames: {
              '#track': holding.track,
              '#team': teamPhaseKey(holding),
              '#pk': String(submissionPk),
              '#teamPk': String(holding.teamPk),
              '#usage': 'usage',
              '#attempt': 'attempt',
              ...(before ? { '#at': 'at' } : {}),
            },
            ExpressionAttributeValues: {
              ':workers': holding.workers,
              ':one': 1,
              ':after': after,
              ':attempt': attempt,
              ...(before ? { ':beforeAt': before.at } : {}),
            },
          }),
        );
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another release of this team, or of this very holding, got there first: read again.
      }
    }
    throw new RecordChangedError(`the admission ledger kept changing while submission ${submissionPk} was released`);
  }

  async read(): Promise<AdmissionLedgerState> {
    const item = await this.item();
    return {
      holdings: Object.values(item.holdings ?? {}),
      usage: new Map(Object.entries(item.usage ?? {}).map(([team, usage]) => [Number(team), usage])),
    };
  }

  private async item(): Promise<LedgerItem> {
    const read = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: admissionLedgerKey }, ConsistentRead: true }),
    );
    return (read.Item ?? {}) as LedgerItem;
  }

  /** The item's maps exist before any path in them is written (DynamoDB sets no path under a missing map). */
  private async ensureMaps(): Promise<void> {
    if (this.mapsEnsured) return;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: admissionLedgerKey },
        UpdateExpression:
          'SET trackUsed = if_not_exists(trackUsed, :empty), teamUsed = if_not_exists(teamUsed, :empty), holdings = if_not_exists(holdings, :empty), #usage = if_not_exists(#usage, :empty)',
        ExpressionAttributeNames: { '#usage': 'usage' },
        ExpressionAttributeValues: { ':empty': {} },
      }),
    );
    this.mapsEnsured = true;
  }
}
