// A starter of the state-lock race (state-lock.test.ts): it says it is ready, waits for the go, tries the
// folder's lock, prints `held` or `busy`, and a holder keeps it until told it is done, then exits without
// letting go, as a killed runtime would.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalRuntimeBusyError, lockStateDir } from '@pitwall/local';

const [dir = '', barrier = ''] = process.argv.slice(2);
const waitFor = async (file: string) => {
  while (!existsSync(join(barrier, file))) await new Promise((resolve) => setTimeout(resolve, 5));
};
writeFileSync(join(barrier, `ready-${process.pid}`), '');
await waitFor('go');
try {
  lockStateDir(dir);
  console.log('held');
  await waitFor('done');
} catch (error) {
  console.log(error instanceof LocalRuntimeBusyError ? 'busy' : `error: ${(error as Error).message}`);
}
