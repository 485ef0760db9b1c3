import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

// biome.json limits a function in packages/*/src and services/*/src to 80 lines (blank ones not counted);
// the few exceptions carry a biome-ignore with their reason, and docs/contributing.md lists them.

const root = fileURLToPath(new URL('../../', import.meta.url));
const RULE = 'lint/complexity/noExcessiveLinesPerFunction';
const biome = join(root, 'node_modules', '.bin', 'biome');

/** Biome's lint, with the repository's biome.json, of `text` as the file at `path` of a repository in miniature. */
function lint(path: string, text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pitwall-length-'));
  copyFileSync(join(root, 'biome.json'), join(dir, 'biome.json'));
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
  return spawnSync(biome, ['lint', '--vcs-enabled=false', path], { cwd: dir, encoding: 'utf8' });
}
const functionOf = (lines: number) =>
  `export function long(): number {\n  let n = 0;\n${'  n += 1;\n'.repeat(lines - 2)}  return n;\n}\n`;

describe('the function-length rule of pnpm lint', () => {
  it('refuses a function of 81 lines in a package’s src, and lets one of 80 and a test’s through', () => {
    const over = lint('packages/domain/src/long.ts', functionOf(81));
    expect(over.status).not.toBe(0);
    expect(over.stdout + over.stderr).toContain(RULE);
    expect(lint('packages/domain/src/long.ts', functionOf(80)).status).toBe(0);
    expect(lint('packages/domain/test/long.test.ts', functionOf(200)).status).toBe(0);
  });

  it('has its exceptions listed in docs/contributing.md, each with its reason in the code', () => {
    const found = spawnSync('git', ['grep', '-l', `biome-ignore ${RULE}`, '--', 'packages', 'services'], {
      cwd: root,
      encoding: 'utf8',
    });
    const files = found.stdout.trim().split('\n').filter(Boolean).sort();
    const listed = [...readFileSync(join(root, 'docs', 'contributing.md'), 'utf8').matchAll(/^ {2}- `([^`]+\.ts)`/gm)]
      .map((m) => m[1])
      .sort();
    expect(files.length).toBeGreaterThan(0);
    expect(listed).toEqual(files);
  });
});
