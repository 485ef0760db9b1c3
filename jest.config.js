import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }];

/**
 * The test tiers, by what a test needs; the first tier whose pattern matches a test file takes it, and a
 * file no other tier takes is a unit test, so every test file is in exactly one tier.
 */
export const TIERS = [
  // The packaged CloudFormation and bundles (osls package, offline).
  ['deploy', /^test\/deploy\//],
  // The local runtime, the pod scripts and the demo: real child processes.
  [
    'processes',
    /^(test\/local\/|packages\/local\/test\/(pod-scripts|process-job-runner)\.|packages\/cli\/test\/local\.)/,
  ],
  // The real ASL in the local engine, and everything run against the local servers (dynalite, s3rver, SQS, EvalAI).
  [
    'sm',
    /^(test\/state-machine\/|services\/[^/]+\/test\/|packages\/(adapters|emulators|logcopy)\/test\/|packages\/lambda-kit\/test\/wiring\.|packages\/local\/test\/pipe\.|packages\/cli\/test\/operate[.-])/,
  ],
  // In-memory ports, schemas and manifests.
  ['unit', /./],
];

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

const files = ['packages', 'services', 'test'].flatMap((top) => testFiles(join(root, top)));
const tierOf = (file) => TIERS.find(([, pattern]) => pattern.test(file))[0];

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  // NodeNext-style './x.js' specifiers point at './x.ts' sources.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

export default {
  // Tests that start servers and run the ASL take a second alone; on 2 busy cores, well over jest's 5 s.
  testTimeout: 30_000,
  projects: TIERS.map(([tier]) => ({
    ...shared,
    displayName: tier,
    testMatch: files.filter((file) => tierOf(file) === tier).map((file) => `<rootDir>/${file}`),
  })),
};
