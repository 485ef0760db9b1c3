#!/usr/bin/env node
// The two README commands start here: `npm test` and `npm start`.
// Plain Node with no dependencies, because it runs before anything is installed:
// it makes sure the pinned pnpm exists, installs the workspace from the lockfile,
// then runs the checks and tests (test) or the demo (start).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from './system-packages.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pinned = manifest.packageManager.replace(/^pnpm@/, '');
const localTools = join(root, '.tools');
const localPnpm = join(localTools, 'node_modules', '.bin', 'pnpm');

// Variables npm sets for its own child scripts would leak into pnpm and confuse it.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
env.COREPACK_ENABLE_STRICT = '0';

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function versionOf(command) {
  const result = spawnSync(command, ['--version'], { cwd: root, env, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The pnpm on PATH if it is the pinned version; otherwise one installed under .tools/ (no root needed). */
function ensurePnpm() {
  if (versionOf('pnpm') === pinned) return 'pnpm';
  if (existsSync(localPnpm) && versionOf(localPnpm) === pinned) return localPnpm;
  console.log(`[pitwall] installing pnpm ${pinned} into .tools/`);
  const status = run('npm', [
    'install',
    '--prefix',
    localTools,
    '--no-save',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    `pnpm@${pinned}`,
  ]);
  if (status !== 0 || versionOf(localPnpm) !== pinned) {
    throw new Error(`could not install pnpm ${pinned}; check access to the npm registry`);
  }
  return localPnpm;
}

function step(name, status) {
  if (status !== 0) {
    console.error(`[pitwall] ${name} failed (exit ${status})`);
    process.exit(status);
  }
}

const mode = process.argv[2];
// Before anything else: the tests' system packages, installed where this user may, else one line saying which.
if (mode === 'test' && !ensureSystemPackages(run)) process.exit(1);
const pnpm = ensurePnpm();
step('install', run(pnpm, ['install', '--frozen-lockfile', '--reporter=append-only']));

if (mode === 'test') {
  // Podman on a machine like CI's (root, no systemd, hybrid cgroups) needs the settings kept beside .ci/run.
  if (!env.CONTAINERS_CONF && !existsSync('/run/systemd/system'))
    env.CONTAINERS_CONF = join(root, '.ci', 'containers.conf');
  step('lint', run(pnpm, ['run', '--silent', 'lint']));
  step('typecheck', run(pnpm, ['run', '--silent', 'typecheck']));
  const report = join(root, '.jest-report.json');
  rmSync(report, { force: true });
  // --forceExit: a process a test left behind must not hold the run open after its report (one did, a
  // logcopy child of a deleted Job, and the run waited for ever). `pnpm jest` alone still says so.
  const jestStatus = run(pnpm, ['run', '--silent', 'jest', '--json', `--outputFile=${report}`, '--forceExit']);
  if (!existsSync(report)) {
    console.error('[pitwall] jest wrote no report');
    process.exit(jestStatus || 1);
  }
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  console.log(`${summary.numPassedTests} passed, ${summary.numFailedTests} failed`);
  const ok = jestStatus === 0 && summary.numFailedTests === 0 && summary.numPassedTests > 0;
  process.exit(ok ? 0 : jestStatus || 1);
} else if (mode === 'start') {
  process.exit(run(pnpm, ['run', '--silent', 'pitwall', 'demo']));
} else {
  console.error('usage: node scripts/bootstrap.mjs test|start');
  process.exit(2);
}
