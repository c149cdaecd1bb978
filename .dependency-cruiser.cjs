/**
 * The layer rules of docs/architecture.md, checked on every `npm test` (`npm run lint:layers`).
 * Paths are relative to the repository root.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle, even of types only, means two modules belong to one layer or a type sits in the wrong one.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      comment: 'The domain imports only the domain, the shared contracts, two pure libraries (zod, libphonenumber-js) and Node built-ins: no AWS, no ports, no adapters.',
      severity: 'error',
      from: { path: '^lambdas/domain/' },
      to: { pathNot: ['^lambdas/domain/', '^lambdas/contracts\\.ts$', '^node_modules/zod/', '^node_modules/libphonenumber-js/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'contracts-stand-alone',
      comment: 'contracts.ts is read by the CDK app, the Lambdas, the local runtime and the tests; it imports nothing.',
      severity: 'error',
      from: { path: '^lambdas/contracts\\.ts$' },
      to: {},
    },
    {
      name: 'support-stand-alone',
      comment: 'lambdas/support/ holds layer-neutral helpers (retry timing); they import nothing of the application.',
      severity: 'error',
      from: { path: '^lambdas/support/' },
      to: { path: '^lambdas/', pathNot: '^lambdas/support/' },
    },
    {
      name: 'ports-are-contracts',
      comment: 'Ports hold interfaces (and the errors they promise); they may name domain types, nothing else.',
      severity: 'error',
      from: { path: '^lambdas/ports/' },
      to: { pathNot: ['^lambdas/ports/', '^lambdas/domain/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'ports-name-domain-types-only',
      comment: 'A port refers to domain types; importing domain values would put logic in a port.',
      severity: 'error',
      from: { path: '^lambdas/ports/' },
      to: { path: '^lambdas/domain/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'use-cases-use-ports-not-adapters',
      comment: 'Use cases orchestrate ports; the composition root picks the adapters.',
      severity: 'error',
      from: { path: '^lambdas/use-cases/' },
      to: { path: ['^lambdas/(adapters|handlers)/', '^lambdas/composition\\.ts$', '^node_modules/@aws-sdk/', '^node_modules/@aws-lambda-powertools/'] },
    },
    {
      name: 'adapters-know-no-callers',
      comment: 'An adapter implements a port with one technology; it does not reach up into use cases, handlers or the composition root.',
      severity: 'error',
      from: { path: '^lambdas/adapters/' },
      to: { path: ['^lambdas/(use-cases|handlers)/', '^lambdas/composition\\.ts$'] },
    },
    {
      name: 'handlers-stand-alone',
      comment: 'Each file in lambdas/handlers/ is one Lambda entry point; what they share lives in lambdas/handlers/shared/.',
      severity: 'error',
      from: { path: '^lambdas/handlers/[^/]+\\.ts$' },
      to: { path: '^lambdas/handlers/[^/]+\\.ts$' },
    },
    {
      name: 'composition-below-handlers',
      comment: 'Handlers call the composition root, never the other way round.',
      severity: 'error',
      from: { path: '^lambdas/composition\\.ts$' },
      to: { path: '^lambdas/handlers/' },
    },
    {
      name: 'lambdas-self-contained',
      comment: 'Lambda code is bundled alone: it cannot reach the CDK app, the local runtime or the tests.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: '^(lib|local|test|bin)/' },
    },
    {
      name: 'lambdas-no-dev-dependencies',
      comment: 'A devDependency is not installed where the bundle is built for production (types excepted).',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'cdk-reads-contracts-only',
      comment: 'The CDK app shares names and validated configuration with the Lambdas, never their runtime code.',
      severity: 'error',
      from: { path: '^(lib|bin)/' },
      to: { path: '^lambdas/', pathNot: ['^lambdas/contracts\\.ts$', '^lambdas/domain/'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
