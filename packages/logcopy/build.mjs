// Bundles logcopy into one file for its container image (cluster/images/logcopy/Dockerfile).
import { build } from 'esbuild';

export async function bundle(outfile = new URL('./dist/logcopy.mjs', import.meta.url).pathname) {
  await build({
    entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    keepNames: true,
    sourcemap: true,
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) await bundle();
