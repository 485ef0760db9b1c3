// esbuild plugins for the Lambda bundles (serverless-esbuild loads this file).
const fs = require('node:fs');
const path = require('node:path');
const { decode, encode } = require('@jridgewell/sourcemap-codec');

/**
 * zod re-exports all of its ~50 locales from its main entry, and esbuild cannot drop them: half of every
 * bundle. Pitwall's messages are English, which zod uses by default, so the locale index keeps `en` only.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!args.importer.includes(`${path.sep}zod${path.sep}`)) return undefined;
      return { path: path.join(path.dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-locales' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(path.join(path.dirname(args.path), 'en.js'))};`,
      loader: 'js',
      resolveDir: path.dirname(args.path),
    }));
  },
};

const VENDOR = /(^|[\\/])node_modules[\\/]/;

/**
 * A source map that covers only Pitwall's own sources. Mappings into node_modules are nine tenths of a
 * full map, and more than the whole function may weigh zipped. Stack frames in our code still point at
 * the TypeScript line; frames in libraries keep the bundle's position and, with keepNames, the name.
 */
function keepOwnSources(map) {
  const sources = [];
  const sourcesContent = [];
  const names = [];
  const sourceIndex = new Map();
  const nameIndex = new Map();
  const indexOf = (index, list, value) => {
    if (!index.has(value)) index.set(value, list.push(value) - 1);
    return index.get(value);
  };
  let inOwnCode = false;
  const lines = decode(map.mappings).map((line) => {
    const kept = [];
    for (const segment of line) {
      if (segment.length === 1 || VENDOR.test(map.sources[segment[1]] ?? '')) {
        // One unmapped marker where our code ends, so the lookup does not stretch our mapping over library code.
        if (inOwnCode) kept.push([segment[0]]);
        inOwnCode = false;
        continue;
      }
      inOwnCode = true;
      const source = segment[1];
      const fresh = !sourceIndex.has(map.sources[source]);
      const mapped = [segment[0], indexOf(sourceIndex, sources, map.sources[source]), segment[2], segment[3]];
      if (fresh && map.sourcesContent) sourcesContent.push(map.sourcesContent[source] ?? null);
      if (segment.length === 5) mapped.push(indexOf(nameIndex, names, map.names[segment[4]]));
      kept.push(mapped);
    }
    return kept;
  });
  return {
    ...map,
    sources,
    ...(map.sourcesContent ? { sourcesContent } : {}),
    names,
    mappings: encode(lines),
  };
}

const ownSourceMaps = {
  name: 'own-source-maps',
  setup(build) {
    build.initialOptions.metafile = true;
    // Output files are on disk by the time onEnd runs.
    build.onEnd((result) => {
      const cwd = build.initialOptions.absWorkingDir ?? process.cwd();
      for (const output of Object.keys(result.metafile?.outputs ?? {})) {
        if (!output.endsWith('.map')) continue;
        const file = path.resolve(cwd, output);
        fs.writeFileSync(file, JSON.stringify(keepOwnSources(JSON.parse(fs.readFileSync(file, 'utf8')))));
      }
    });
  },
};

module.exports = [zodEnglishOnly, ownSourceMaps];
