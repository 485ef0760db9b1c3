import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cruise, type IForbiddenRuleType } from 'dependency-cruiser';

// The very rules `pnpm lint` checks the repository with.
const { forbidden } = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as {
  forbidden: IForbiddenRuleType[];
};

let dir: string;
const probe = (path: string, text: string) => {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
};

beforeAll(() => {
  // A repository in miniature, one forbidden import per rule, and one allowed import.
  dir = mkdtempSync(join(tmpdir(), 'pitwall-fences-'));
  probe('packages/domain/src/sdk.ts', "import { S3Client } from '@aws-sdk/client-s3';\nexport const c = S3Client;\n");
  probe('packages/domain/src/files.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n");
  probe('packages/domain/src/rules.ts', "import { r } from './files.js';\nexport const rules = r;\n");
  probe('services/ingest/src/handler.ts', 'export const handler = 1;\n');
  probe(
    'packages/adapters/src/reach.ts',
    "import { handler } from '../../../services/ingest/src/handler.js';\nexport const h = handler;\n",
  );
  probe('packages/local/src/runtime.ts', 'export const runtime = 1;\n');
  probe('packages/lambda-kit/src/tasks.ts', 'export const tasks = 1;\n');
  probe(
    'packages/deploy/src/roles.ts',
    "import { tasks } from '../../lambda-kit/src/tasks.js';\nexport const r = tasks;\n",
  );
  probe(
    'packages/lambda-kit/src/wiring.ts',
    "import { runtime } from '../../local/src/runtime.js';\nexport const w = runtime;\n",
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the layer fences of .dependency-cruiser.cjs (run by pnpm lint)', () => {
  it('catch each forbidden import, by rule, and let the allowed one through', async () => {
    const result = await cruise(['packages', 'services'], {
      baseDir: dir,
      validate: true,
      ruleSet: { forbidden },
      doNotFollow: { path: 'node_modules' },
    });
    const output = typeof result.output === 'string' ? JSON.parse(result.output) : result.output;
    const violations = (output.summary.violations as { from: string; to: string; rule: { name: string } }[]).map(
      (v) => `${v.rule.name}: ${v.from} → ${v.to}`,
    );
    expect(violations.sort()).toEqual([
      'adapters-never-import-services: packages/adapters/src/reach.ts → services/ingest/src/handler.ts',
      'deploy-runs-no-lambda-code: packages/deploy/src/roles.ts → packages/lambda-kit/src/tasks.ts',
      'deployed-code-imports-no-local-or-test-code: packages/lambda-kit/src/wiring.ts → packages/local/src/runtime.ts',
      'domain-does-no-io: packages/domain/src/sdk.ts → @aws-sdk/client-s3',
      'domain-no-node-io: packages/domain/src/files.ts → fs',
    ]);
  });
});
