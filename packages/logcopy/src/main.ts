#!/usr/bin/env node
// The logcopy container's entry point. As its container's PID 1 it gets no signal it has no handler for, so
// the handlers come before anything else loads: a SIGTERM while the SDK loads (a pod whose agent crashed at
// once) was lost, and the pod waited out its whole grace.
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
process.once('SIGINT', () => stop.abort());

const { runCommand } = await import('./commands.js');
runCommand(process.argv[2], stop.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`logcopy: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
