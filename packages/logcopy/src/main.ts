#!/usr/bin/env node
// The logcopy container's entry point: `watch` (the sidecar) or `restore` (the init step: a replaced pod's logs, a resumed worker's checkpoint).
import { createDocumentClient, createS3Client, S3ArtifactStore } from '@pitwall/adapters';
import { readLogcopyConfig } from './config.js';
import { DynamoDbProgressSink } from './dynamodb-progress.js';
import { Logcopy } from './logcopy.js';

async function main(command: string | undefined): Promise<number> {
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
    const restored = await logcopy.restore();
    console.log(restored.length > 0 ? `restored ${restored.join(', ')}` : 'nothing to restore');
    return 0;
  }
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  console.log(`logcopy: ${await logcopy.run(stop.signal)}`);
  // A sidecar that exits is started again: once done, it waits for the pod's end.
  if (!stop.signal.aborted) {
    const awake = setInterval(() => undefined, 3_600_000); // a signal handler alone keeps no process alive
    await new Promise((resolve) => stop.signal.addEventListener('abort', resolve));
    clearInterval(awake);
  }
  return 0;
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`logcopy: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
