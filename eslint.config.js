// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.cdp/', 'coverage/', '.bench/', 'local/bench/standard-workload.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Implementations of promise-returning ports (and their test fakes) are `async` so that a
      // throw becomes a rejection, whether or not they await anything.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a value left out on purpose (a destructured field dropped, a loop that only counts).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'all' }],
    },
  },
  {
    // Ports are the contracts between layers: interfaces, types, and the errors they promise.
    files: ['lambdas/ports/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'FunctionDeclaration', message: 'ports hold interfaces; put implementations in an adapter' },
        { selector: 'Program > VariableDeclaration, ExportNamedDeclaration > VariableDeclaration', message: 'ports hold interfaces; put values in an adapter or the domain' },
        { selector: 'ClassDeclaration:not([superClass])', message: 'ports hold interfaces; the only classes allowed are the errors a port promises' },
        { selector: 'ClassDeclaration[superClass.name!=/Error$/]', message: 'ports hold interfaces; the only classes allowed are the errors a port promises' },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Vitest's asymmetric matchers (expect.objectContaining, expect.stringContaining, ...) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
);
