import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

// The README is the newcomer's page and docs/ the depth: a link that leads nowhere is a lie in both.

const root = fileURLToPath(new URL('../../', import.meta.url));
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
  'cluster/README.md',
  'services/README.md',
  'test/README.md',
];

/** GitHub's anchor for a heading: lower case, spaces to hyphens, punctuation dropped. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-');

const anchorsIn = (file: string) =>
  new Set([...readFileSync(file, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1] as string)));

/** Each relative link of a page (its text, read from the file unless given) that leads nowhere, and why. */
function brokenLinks(page: string, markdown = readFileSync(join(root, page), 'utf8')): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, '');
  const broken: string[] = [];
  for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
    const [path = '', anchor] = target.split('#');
    const file = path === '' ? join(root, page) : join(root, dirname(page), path);
    if (!existsSync(file)) {
      broken.push(`${page}: ${target} (no ${relative(root, file)})`);
    } else if (anchor && file.endsWith('.md') && !anchorsIn(file).has(anchor)) {
      broken.push(`${page}: ${target} (no heading #${anchor})`);
    }
  }
  return broken;
}

describe('the README and docs/', () => {
  it('link only to files and headings that are there', () => {
    expect(pages.flatMap((page) => brokenLinks(page))).toEqual([]);
  });

  it('keep the README a newcomer’s page: at most 200 lines, every docs page linked from it', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(200);
    for (const page of pages.filter((p) => p.startsWith('docs/'))) expect(readme).toContain(`](${page})`);
  });

  it('finds a broken link when there is one (the check bites)', () => {
    expect(anchorOf("Pitwall's queue: GPU budgets, a team cap")).toBe('pitwalls-queue-gpu-budgets-a-team-cap');
    const page = '[a](nowhere.md) [b](../README.md#no-such-heading) [c](../README.md#layout) [d](https://x.org/y)';
    expect(brokenLinks('docs/example.md', page)).toEqual([
      'docs/example.md: nowhere.md (no docs/nowhere.md)',
      'docs/example.md: ../README.md#no-such-heading (no heading #no-such-heading)',
    ]);
  });
});
