import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../src/program.js';
import { captureIo } from './capture-io.js';

// The CLI examples of docs/architecture.md run as a reader would type them, from the repository's root:
// an example that fails is a doc that lies.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const MARK = '<!-- examples: packages/cli/test/docs-examples.test.ts -->';

/** The `pnpm pitwall …` lines of the block that follows the mark, as argument lists. */
function examples(): string[][] {
  const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8');
  const after = doc.slice(doc.indexOf(MARK) + MARK.length);
  const [, block = ''] = /```bash\n([\s\S]*?)```/.exec(after) ?? [];
  return block
    .split('\n')
    .filter((line) => line.startsWith('pnpm pitwall '))
    .map((line) => line.split(/\s+/).slice(2));
}

let cwd: string;
beforeAll(() => {
  // A working folder whose relative paths are the repository's, so that merged.json lands in it.
  cwd = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), 'pitwall-docs-'));
  symlinkSync(join(root, 'packages'), join(dir, 'packages'));
  process.chdir(dir);
});
afterAll(() => process.chdir(cwd));

describe('the CLI examples of docs/architecture.md', () => {
  it('are there, and each exits 0 in order, saying what it did', async () => {
    const lines = examples();
    expect(lines.map((args) => args.slice(0, 2).join(' '))).toEqual(['routes plan', 'results merge', 'results evalai']);
    const printed: string[] = [];
    for (const args of lines) {
      const io = captureIo();
      expect({ args, code: await runCli(args, io), stderr: io.stderr() }).toEqual({ args, code: 0, stderr: '' });
      printed.push(io.stdout());
    }
    expect(JSON.parse(printed[0] ?? '').workerCount).toBe(4);
    expect(printed[1]).toContain('merged.json: 4 of 4 routes from 2 file(s)');
    const put = JSON.parse(printed[2] ?? '');
    expect(put).toMatchObject({ challenge_phase: 7, submission: 42, submission_status: 'FINISHED' });
    expect(JSON.parse(put.result)[0].accuracies['Driving score']).toBe(50.871605);
  });
});
