// pnpm bench:bundles — each function's zipped size and cold initialisation time, from `pnpm package`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { packageService, prepareStage, SERVICES } from '../src/index.js';

const root = new URL('../../../', import.meta.url).pathname;
/** Functions that talk to Kubernetes carry its client; the others should stay small. */
const KUBERNETES = new Set(['launchWorker', 'observe', 'collect', 'deleteJobs', 'handleFailure', 'sweep']);
const LIMIT_KB = 300;

const { region } = prepareStage('ci');
for (const service of SERVICES) {
  if (!existsSync(join(root, 'services', service, '.serverless'))) packageService(service, 'ci', region);
}

console.log('function        service     zipped KB  unzipped KB  cold init ms  kubernetes  within 300 KB');
let over = 0;
for (const service of SERVICES) {
  const dir = join(root, 'services', service, '.serverless');
  for (const zip of readdirSync(dir).filter((f) => f.endsWith('.zip'))) {
    const fn = zip.replace(/\.zip$/, '');
    const zippedKb = statSync(join(dir, zip)).size / 1024;
    const target = mkdtempSync(join(tmpdir(), `bundle-${fn}-`));
    const archive = new AdmZip(join(dir, zip));
    archive.extractAllTo(target, true);
    const unzippedKb = archive.getEntries().reduce((sum, e) => sum + e.header.size, 0) / 1024;
    const entry = archive.getEntries().find((e) => e.entryName.endsWith('.mjs'))?.entryName ?? '';
    // A fresh process with no node_modules around it: what a Lambda cold start has to load.
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t=performance.now();await import('./${entry}');console.log(performance.now()-t)`,
      ],
      {
        cwd: target,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, AWS_REGION: region, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      },
    );
    rmSync(target, { recursive: true, force: true });
    const initMs = run.status === 0 ? Number(run.stdout.trim()).toFixed(0) : `failed: ${run.stderr.split('\n')[0]}`;
    const kube = KUBERNETES.has(fn);
    const within = kube || zippedKb <= LIMIT_KB;
    if (!within) over += 1;
    console.log(
      [
        fn.padEnd(15),
        service.padEnd(11),
        zippedKb.toFixed(0).padStart(9),
        unzippedKb.toFixed(0).padStart(12),
        String(initMs).padStart(13),
        (kube ? 'yes' : 'no').padStart(11),
        (kube ? 'n/a' : within ? 'yes' : 'NO').padStart(14),
      ].join(' '),
    );
  }
}
if (over > 0) console.log(`${over} function(s) that do not talk to Kubernetes are over ${LIMIT_KB} KB zipped.`);
