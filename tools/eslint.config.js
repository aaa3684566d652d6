// The project's ESLint flat config (the root eslint.config.js re-exports it). It lives here because
// typescript-eslint must resolve this workspace's typescript 6.0.x: see tools/package.json.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The repository root: its tsconfig.json gives the type information of the type-checked rules. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export default tseslint.config(
  { ignores: ['dist/', 'docs/', 'coverage/', '.tmp/', '**/node_modules/'] },
  eslint.configs.recommended,
  // Type-aware rules over everything tsconfig.json includes (src, test, bench, demo, examples).
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      parserOptions: { projectService: true, tsconfigRootDir: ROOT },
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
      // A promise nobody awaits or catches, or one handed where a void callback is expected, loses its rejection.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Indexed reads carry `as T` or `!` throughout, written as if noUncheckedIndexedAccess were on (it is not, so
      // the rule would strip them all, and they would be needed again the day it is turned on).
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // The JavaScript config and tool files are in no tsconfig: the rules that need types are off for them.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // chai's `expect(x).to.be.true` is an expression statement.
      '@typescript-eslint/no-unused-expressions': 'off',
      // Tests read JSON.parse results (any) and check their shape with chai's deep equality.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
