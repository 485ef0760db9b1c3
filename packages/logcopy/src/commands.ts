// logcopy's two commands: `watch` (the sidecar) or `restore` (the init step: a replaced pod's logs, a resumed
// worker's checkpoint). `stop` fires on SIGTERM or SIGINT, set by main.ts before this module loads.
import { createDocumentClient, createS3Client, S3ArtifactStore } from '@pitwall/adapters';
import { readLogcopyConfig } from './config.js';
import { DynamoDbProgressSink } from './dynamodb-progress.js';
import { Logcopy } from './logcopy.js';

export async function runCommand(command: string | undefined, stop: AbortSignal): Promise<number> {
  if (command !== 'watch' && command !== 'restore') {
    console.error('usage: logcopy watch|restore (configured through the environment, see config.ts)');
    return 2;
  }
  const config = readLogcopyConfig(process.env);
  const s3 = createS3Client({ region: config.region, endpoint: config.endpoints.s3 });
  const dynamo = createDocumentClient({ region: config.region, endpoint: config.endpoints.dynamodb });
  const logcopy = new Logcopy(
    config,
    new S3ArtifactStore(s3, config.bucket),
    new DynamoDbProgressSink(dynamo, config.table),
  );
  if (command === 'restore') {
    // A pod stopped while it restores: nothing of it is worth a grace (the next pod restores again).
    if (stop.aborted) return 143;
    stop.addEventListener('abort', () => process.exit(143), { once: true });
    const restored = await logcopy.restore();
    console.log(restored.length > 0 ? `restored ${restored.join(', ')}` : 'nothing to restore');
    return 0;
  }
  console.log(`logcopy: ${await logcopy.run(stop)}`);
  // A sidecar that exits is started again: once done, it waits for the pod's end.
  if (!stop.aborted) {
    const awake = setInterval(() => undefined, 3_600_000); // a signal handler alone keeps no process alive
    await new Promise((resolve) => stop.addEventListener('abort', resolve));
    clearInterval(awake);
  }
  return 0;
}
