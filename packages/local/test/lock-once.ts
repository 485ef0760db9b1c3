// A starter of the state-lock race (state-lock.test.ts): at the given moment it tries the folder's lock, prints
// `held` or `busy`, and, holding it, stays a while so that the others meet a live holder; it exits without
// letting go, as a killed runtime would.
import { LocalRuntimeBusyError, lockStateDir } from '@pitwall/local';

const [dir, startAt] = [process.argv[2] ?? '', Number(process.argv[3])];
while (Date.now() < startAt) {
  // every starter tries at the same moment
}
try {
  lockStateDir(dir);
  console.log('held');
  await new Promise((resolve) => setTimeout(resolve, 5000));
} catch (error) {
  console.log(error instanceof LocalRuntimeBusyError ? 'busy' : `error: ${(error as Error).message}`);
}
