import { existsSync } from 'node:fs';
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
import { closeWhenDone } from '../closers.js';
import { asUsageError } from '../explained.js';
import { type CliIo, UsageError } from '../io.js';
import { hostToken, readServing, type ServingMachine, serveStateDir } from './machine-state.js';
import { asHost, type Source } from './sources.js';

/** The stores' own keys: they listen on this machine's loopback, where only its users reach them. */
const DYNALITE_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

type Stores = Pick<Source, 'store' | 'admissions' | 'artifacts'>;

/**
 * A machine serving a challenge (`pitwall serve --stage <stage>`): while it runs, its stores as its state
 * folder's serving.json says; stopped, its state folder's stores opened for the command, the folder held
 * meanwhile. EvalAI is asked as the challenge's host with the stage's token.
 */
export async function machineSource(name: string, io: CliIo): Promise<Source> {
  let stage: MachineStageConfig;
  try {
    stage = loadMachineStage(name);
  } catch (error) {
    throw asUsageError(error);
  }
  const stateDir = serveStateDir(name, stage);
  const machine = readServing(stateDir);
  if (!machine && !existsSync(stateDir)) {
    throw new UsageError(`pitwall serve has not run for stage ${name} here (no state in ${stateDir})`);
  }
  const stores = machine ? runningStores(machine) : await stoppedStores(stateDir);
  const evalai = () => new EvalAiClient({ baseUrl: stage.evalai.apiServer, token: hostToken(stage, process.env, io) });
  const host = { ...stores, challenge: stage.challenge, evalaiHost: evalai };
  return {
    ...host,
    ...asHost(host),
    evalaiStatus: async (pk) => (await evalai().getSubmission(pk)).status,
    queue: async () => {
      if (!machine) throw new UsageError(`stage ${name}: pitwall serve is stopped; start it to requeue`);
      const sqs = createSqsClient({ region: machine.region, endpoint: machine.sqs, credentials: DYNALITE_CREDENTIALS });
      return new SqsSubmissionQueue(sqs, machine.queueUrl);
    },
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

function runningStores(machine: ServingMachine): Stores {
  const { region, table, bucket } = machine;
  const documents = createDocumentClient({ region, endpoint: machine.dynamodb, credentials: DYNALITE_CREDENTIALS });
  const s3 = createS3Client({ region, endpoint: machine.s3, credentials: S3RVER_CREDENTIALS });
  return {
    store: new DynamoDbSubmissionStore(documents, table),
    admissions: new DynamoDbAdmissionLedger(documents, table),
    artifacts: new S3ArtifactStore(s3, bucket),
  };
}

/** The state folder's own stores, started for this command and closed after it; the folder held meanwhile. */
async function stoppedStores(stateDir: string): Promise<Stores> {
  const local = await import('@pitwall/local');
  let release: () => void;
  try {
    release = local.lockStateDir(stateDir); // a serve starting meanwhile says the folder is busy
  } catch (error) {
    throw asUsageError(error);
  }
  try {
    const stores = await local.startLocalStores({
      table: local.LOCAL_TABLE,
      bucket: local.LOCAL_BUCKET,
      region: local.LOCAL_REGION,
      directory: stateDir,
    });
    closeWhenDone(async () => {
      await stores.close();
      release();
    });
    return stores;
  } catch (error) {
    release();
    throw error;
  }
}
