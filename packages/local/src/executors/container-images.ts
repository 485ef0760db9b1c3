import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { routesFile } from '@pitwall/carla-routes';
import { buildLocalPrograms } from '../bundles.js';
import type { ContainerEngine } from './container-job-runner.js';

const run = promisify(execFile);

/** The local test images, fully qualified: podman reads `localhost/…` as this machine's own. */
export const LOCAL_IMAGES = {
  simulator: 'localhost/pitwall/carla-simulator:standin',
  evaluator: 'localhost/pitwall/leaderboard-evaluator:standin',
  logcopy: 'localhost/pitwall/logcopy:standin',
} as const;

/** A stand-in participant's image; its tag picks the stand-in agent's behaviour (good, crash-once, …). */
export const agentImage = (behaviour: string) => `localhost/local/agent:${behaviour}`;

/** What the stand-in images are made of: the host's own programs, so that nothing is downloaded. */
const BASE = 'localhost/pitwall/standin-base:latest';
const PROGRAMS = [
  ...['bash', 'sh', 'awk', 'grep', 'sed', 'setsid'],
  ...['basename', 'cat', 'cp', 'cut', 'date', 'dirname', 'env', 'head', 'id', 'ls', 'mkdir', 'mv', 'readlink'],
  ...['rm', 'sleep', 'sort', 'stat', 'tail', 'tee', 'timeout', 'touch', 'tr', 'true', 'false', 'uname', 'wc'],
  'tini',
];
const PYTHON = '/usr/bin/python3';

export class ImageBuildError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageBuildError';
  }
}

/**
 * Builds the images the container executor runs in tests and the demo, with no registry: a base made of
 * the host's bash, coreutils, node and python3 with the libraries they load (`podman import`), and on it
 * the CARLA stand-in, the evaluator files with the real pod scripts, logcopy, and one stand-in agent per
 * behaviour. Returns the images built.
 */
export async function buildLocalImages(options: {
  engine?: ContainerEngine;
  behaviours: readonly string[];
}): Promise<string[]> {
  const engine = options.engine ?? 'podman';
  const work = mkdtempSync(join(tmpdir(), 'pitwall-images-'));
  try {
    const programs = await buildLocalPrograms(join(work, 'programs'));
    const rootfs = join(work, 'rootfs');
    assembleRootfs(rootfs);
    await run('sh', [
      '-c',
      `tar -C "${rootfs}" -c . | ${engine} import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' - ${BASE}`,
    ]);

    const context = join(work, 'context');
    mkdirSync(join(context, 'bin'), { recursive: true });
    copyFileSync(programs.standin, join(context, 'carla-standin.mjs'));
    copyFileSync(programs.logcopy, join(context, 'logcopy.mjs'));
    cpSync(programs.standinBin, join(context, 'bin'), { recursive: true });
    cpSync(programs.scripts, join(context, 'scripts'), { recursive: true });
    copyFileSync(programs.evaluator, join(context, 'leaderboard_evaluator.py'));
    copyFileSync(routesFile('validation'), join(context, 'validation.xml'));
    const standin = [
      'COPY carla-standin.mjs /opt/pitwall/carla-standin.mjs',
      'COPY bin/ /usr/local/bin/',
      'ENV PITWALL_NODE=/usr/bin/node PITWALL_STANDIN=/opt/pitwall/carla-standin.mjs CARLA_SERVER=/usr/local/bin/carla-server',
      // nvidia-smi shows only the GPU a CDI device delivered (the runtime says "pretend one" when it has none).
      'ENV PITWALL_STANDIN_GPUS=devices',
    ];
    const images: Record<string, string[]> = {
      [LOCAL_IMAGES.simulator]: standin,
      [LOCAL_IMAGES.evaluator]: [
        'COPY scripts/ /workspace/leaderboard/scripts/',
        'COPY leaderboard_evaluator.py /workspace/leaderboard/leaderboard/leaderboard_evaluator.py',
        'COPY validation.xml /workspace/leaderboard/data/validation.xml',
      ],
      [LOCAL_IMAGES.logcopy]: [
        'COPY logcopy.mjs /app/logcopy.mjs',
        // As cluster/images/logcopy/Dockerfile: tini as PID 1, so that no SIGTERM is lost while node starts.
        'ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/logcopy.mjs"]',
        'CMD ["watch"]',
      ],
      ...Object.fromEntries(
        options.behaviours.map((behaviour) => [
          agentImage(behaviour),
          [
            ...standin,
            `ENV AGENT_BEHAVIOUR=${behaviour} AGENT_IMAGE=${agentImage(behaviour)} TEAM_AGENT=/workspace/team_code/agent.py`,
          ],
        ]),
      ),
    };
    for (const [image, lines] of Object.entries(images)) {
      const file = join(context, 'Containerfile');
      writeFileSync(file, [`FROM ${BASE}`, ...lines, 'USER 1000:1000', ''].join('\n'));
      // Docker's build has no --pull=never; it takes a base it has without asking a registry.
      const noPull = engine === 'podman' ? ['--pull=never'] : [];
      await run(engine, ['build', ...noPull, '--quiet', '-f', file, '-t', image, context]);
    }
    return Object.keys(images);
  } catch (error) {
    if (error instanceof ImageBuildError) throw error;
    const detail = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
    throw new ImageBuildError(`building the local images with ${engine} failed: ${detail}`, { cause: error });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The host's programs and the libraries they load, at the same paths, with a user 1000 and a /tmp. */
function assembleRootfs(rootfs: string): void {
  const place = (source: string, target = source) => {
    const path = join(rootfs, target);
    if (existsSync(path)) return;
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(realpathSync(source), path);
    chmodSync(path, 0o755);
  };
  if (!existsSync(PYTHON)) throw new ImageBuildError(`the stand-in agent needs ${PYTHON} (Debian's python3)`);
  const programs: [source: string, target: string][] = [
    [process.execPath, '/usr/bin/node'],
    [PYTHON, PYTHON],
    ...PROGRAMS.map(locate).map((path): [string, string] => [path, path]),
  ];
  for (const [source, target] of programs) {
    place(source, target);
    for (const library of sharedLibraries(source)) place(library);
  }
  const stdlib = `/usr/lib/${/python3\.\d+/.exec(realpathSync(PYTHON))?.[0] ?? 'python3'}`;
  cpSync(stdlib, join(rootfs, stdlib), {
    recursive: true,
    filter: (source) => !/\/(test|idlelib|tkinter|ensurepip|__pycache__)(\/|$)/.test(source),
  });
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\npitwall:x:1000:1000::/tmp:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\npitwall:x:1000:\n');
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  for (const dir of ['workspace/team_code', 'proc', 'dev', 'sys']) mkdirSync(join(rootfs, dir), { recursive: true });
}

function locate(program: string): string {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (existsSync(join(dir, program))) return join(dir, program);
  }
  throw new ImageBuildError(`the stand-in images need ${program}, which this machine does not have`);
}

/** The libraries `ldd` says a program loads, the dynamic loader among them. */
function sharedLibraries(binary: string): string[] {
  const stdout = spawnSync('ldd', [binary], { encoding: 'utf8' }).stdout ?? '';
  return [...stdout.matchAll(/(\/[^\s)]+)/g)].map((match) => match[1] ?? '').filter((path) => path !== binary);
}
