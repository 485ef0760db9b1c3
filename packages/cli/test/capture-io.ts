import type { CliIo } from '../src/io.js';

/** An in-memory CliIo: what a command printed, and optional stdin. */
export function captureIo(stdin = ''): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    interactive: false,
    out: (text) => {
      out += text.endsWith('\n') ? text : `${text}\n`;
    },
    err: (text) => {
      err += text.endsWith('\n') ? text : `${text}\n`;
    },
    readStdin: async () => stdin,
    stdout: () => out,
    stderr: () => err,
  };
}
