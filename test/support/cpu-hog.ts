import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A loaded machine, as CI's often is: `processes` busy loops at the same priority as the test, until stopped.
 * The end-to-end tests that race a run's end against its last upload run beside one.
 */
export function cpuHog(processes = 2): { stop(): void } {
  const hogs: ChildProcess[] = Array.from({ length: processes }, () => {
    const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    hog.unref();
    return hog;
  });
  return {
    stop: () => {
      for (const hog of hogs) hog.kill('SIGKILL');
    },
  };
}
