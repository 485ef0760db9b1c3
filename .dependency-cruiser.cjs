// The layers' fences, checked by `pnpm lint`: the domain holds the rules and does no I/O, adapters never
// reach into services, and nothing deployed imports the local runtime, the emulators or test doubles.
const DEPLOYED = '^(services/[^/]+/src|packages/(domain|adapters|kube|lambda-kit|logcopy|workflow)/src)/';

module.exports = {
  forbidden: [
    {
      name: 'domain-does-no-io',
      comment: 'packages/domain holds the rules and the ports: no AWS SDK, Kubernetes, HTTP or Node I/O.',
      severity: 'error',
      from: { path: '^packages/domain/src/', pathNot: '^packages/domain/src/testing/' },
      to: {
        path: '(@aws-sdk|@smithy|@kubernetes|kubernetes-models|undici|@middy|@aws-lambda-powertools)',
      },
    },
    {
      name: 'domain-no-node-io',
      comment: 'packages/domain reads no files, opens no sockets, starts no processes.',
      severity: 'error',
      from: { path: '^packages/domain/src/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(fs|fs/promises|net|http|https|http2|tls|dgram|child_process|worker_threads|cluster)$',
      },
    },
    {
      name: 'adapters-never-import-services',
      severity: 'error',
      from: { path: '^packages/adapters/' },
      to: { path: '^services/' },
    },
    {
      name: 'deployed-code-imports-no-local-or-test-code',
      comment: 'What runs in Lambda or in a pod never imports the local runtime, the emulators or test doubles.',
      severity: 'error',
      from: { path: DEPLOYED, pathNot: '^packages/[^/]+/src/testing/' },
      to: { path: '^packages/(local|emulators)/|^packages/[^/]+/src/testing/' },
    },
    {
      name: 'deploy-runs-no-lambda-code',
      comment:
        'Packaging reads the task table from packages/workflow: never the Lambdas’ middy, Powertools or lambda-kit.',
      severity: 'error',
      from: { path: '^packages/deploy/src/' },
      to: { path: '(@middy|@aws-lambda-powertools|^packages/lambda-kit/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Workspace packages resolve through their package.json `exports`, to their TypeScript sources.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
    exclude: { path: '(^|/)(test|bench|dist|\\.serverless)/' },
  },
};
