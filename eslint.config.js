// Lint rules from the style guide: no floating promises, type-only imports
// marked as such, strict equality, no `any`, and no Node built-ins in
// workflow code (it runs in Temporal's deterministic sandbox).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.local/', 'deploy/', 'stack/kube/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      // Handlers and fakes implement async interfaces without always awaiting.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'contract/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'workflow code runs in a deterministic sandbox: no Node built-ins' },
            {
              group: ['**/activities/**', '@kubernetes/*', '@aws-sdk/*', '@temporalio/worker', '@temporalio/activity'],
              allowTypeImports: true,
              message: 'workflows reach Kubernetes and AWS only through activities',
            },
          ],
        },
      ],
    },
  },
  {
    // The contract is what the workflow, the activities and the watcher
    // share: it depends on nothing of ours, so nothing can drag Node or SDK
    // code into the workflow bundle through it.
    files: ['contract/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*', '../**'], message: 'the contract depends on nothing of ours outside contract/' },
            { group: ['node:*', '@kubernetes/*', '@aws-sdk/*', '@temporalio/*', '@sinclair/*'], message: 'the contract is plain types and constants' },
          ],
        },
      ],
    },
  },
  {
    // node:test collects the promises test() returns; fakes implement async
    // interfaces without awaiting anything.
    files: ['**/*.test.ts', 'test/support/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
