import {
  createDocumentClient,
  createS3Client,
  createSqsClient,
  DynamoDbAdmissionLedger,
  DynamoDbSubmissionStore,
  EvalAiClient,
  S3ArtifactStore,
  SqsSubmissionQueue,
} from '@pitwall/adapters';
import { loadMachineStage, type MachineStageConfig } from '@pitwall/deploy/stage-file';
import { S3RVER_CREDENTIALS } from '@pitwall/emulators';
import { asUsageError } from '../explained.js';
import { type CliIo, UsageError } from '../io.js';
import { hostToken, readServing, serveStateDir } from './machine-state.js';
import { asHost, type Source } from './sources.js';

/** The stores' own keys: they listen on this machine's loopback, where only its users reach them. */
const DYNALITE_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * A machine serving a challenge (`pitwall serve --stage <stage>`), while it runs: its stores, as its state
 * folder's serving.json says, and EvalAI as the challenge's host with the stage's token.
 */
export function machineSource(name: string, io: CliIo): Source {
  let stage: MachineStageConfig;
  try {
    stage = loadMachineStage(name);
  } catch (error) {
    throw asUsageError(error);
  }
  const stateDir = serveStateDir(name, stage);
  const machine = readServing(stateDir);
  if (!machine) {
    throw new UsageError(
      `pitwall serve is not running for stage ${name} (nothing in ${stateDir} says so): start it with \`pitwall serve --stage ${name}\``,
    );
  }
  const documents = createDocumentClient({
    region: machine.region,
    endpoint: machine.dynamodb,
    credentials: DYNALITE_CREDENTIALS,
  });
  const s3 = createS3Client({ region: machine.region, endpoint: machine.s3, credentials: S3RVER_CREDENTIALS });
  const store = new DynamoDbSubmissionStore(documents, machine.table);
  const artifacts = new S3ArtifactStore(s3, machine.bucket);
  const evalai = () => new EvalAiClient({ baseUrl: stage.evalai.apiServer, token: hostToken(stage, process.env, io) });
  const host = { store, artifacts, challenge: stage.challenge, evalaiHost: evalai };
  return {
    ...host,
    ...asHost(host),
    admissions: new DynamoDbAdmissionLedger(documents, machine.table),
    evalaiStatus: async (pk) => (await evalai().getSubmission(pk)).status,
    queue: async () =>
      new SqsSubmissionQueue(
        createSqsClient({ region: machine.region, endpoint: machine.sqs, credentials: DYNALITE_CREDENTIALS }),
        machine.queueUrl,
      ),
    read: async (work) => {
      try {
        return await work();
      } catch (error) {
        // A serve killed outright leaves serving.json behind, and no stores at those addresses.
        const { name: kind, message } = error as Error;
        throw new UsageError(
          `stage ${name}: the serving machine's stores did not answer (${kind}: ${message.split('\n')[0]}); is \`pitwall serve --stage ${name}\` running?`,
          { cause: error },
        );
      }
    },
  };
}
