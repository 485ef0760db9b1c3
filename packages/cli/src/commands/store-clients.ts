import {
  createDocumentClient,
  createS3Client,
  createSqsClient,
  DynamoDbAdmissionLedger,
  DynamoDbSubmissionStore,
  S3ArtifactStore,
  SqsSubmissionQueue,
} from '@pitwall/adapters';
import { S3RVER_CREDENTIALS, UNSIGNED_SERVER_CREDENTIALS } from '@pitwall/emulators';
import type { Source } from './sources.js';

/** Where the embedded stores of a Pitwall on this machine (`local up`, `serve`) listen, and their names. */
export interface EmbeddedStores {
  readonly region: string;
  readonly dynamodb: string;
  readonly s3: string;
  readonly table: string;
  readonly bucket: string;
}

/** The submissions, the queue's slots and the artifacts. */
export type StoreClients = Pick<Source, 'store' | 'admissions' | 'artifacts'>;

/** The submissions, the queue's slots and the artifacts, in those stores. */
export function storesAt(at: EmbeddedStores): StoreClients {
  const { region, table } = at;
  const documents = createDocumentClient({ region, endpoint: at.dynamodb, credentials: UNSIGNED_SERVER_CREDENTIALS });
  const s3 = createS3Client({ region, endpoint: at.s3, credentials: S3RVER_CREDENTIALS });
  return {
    store: new DynamoDbSubmissionStore(documents, table),
    admissions: new DynamoDbAdmissionLedger(documents, table),
    artifacts: new S3ArtifactStore(s3, at.bucket),
  };
}

/** The submissions queue of a Pitwall on this machine. */
export function queueAt(at: { readonly region: string; readonly sqs: string; readonly queueUrl: string }) {
  const sqs = createSqsClient({ region: at.region, endpoint: at.sqs, credentials: UNSIGNED_SERVER_CREDENTIALS });
  return new SqsSubmissionQueue(sqs, at.queueUrl);
}
