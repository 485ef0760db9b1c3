import { existsSync } from 'node:fs';
import { EvalAiClient } from '@pitwall/adapters';
import { loadMachineStage, type MachineStageConfig } from '@pitwall/deploy/stage-file';
import { closeWhenDone } from '../closers.js';
import { asUsageError } from '../explained.js';
import { type CliIo, UsageError } from '../io.js';
import { hostToken, readServing, serveStateDir } from './machine-state.js';
import { asHost, type Source } from './sources.js';
import { queueAt, type StoreClients, storesAt } from './store-clients.js';

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
  const stores = machine ? storesAt(machine) : await stoppedStores(stateDir);
  const evalai = () => new EvalAiClient({ baseUrl: stage.evalai.apiServer, token: hostToken(stage, process.env, io) });
  const host = { ...stores, challenge: stage.challenge, evalaiHost: evalai };
  return {
    ...host,
    ...asHost(host),
    evalaiStatus: async (pk) => (await evalai().getSubmission(pk)).status,
    queue: async () => {
      if (!machine) throw new UsageError(`stage ${name}: pitwall serve is stopped; start it to requeue`);
      return queueAt(machine);
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

/** The state folder's own stores, started for this command and closed after it; the folder held meanwhile. */
async function stoppedStores(stateDir: string): Promise<StoreClients> {
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
