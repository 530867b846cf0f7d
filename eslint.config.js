// Lint rules agreed for CI (issue 11): ESLint's and typescript-eslint's recommended sets, nothing
// stylistic (no formatter fights). Type-aware rules are left out: they would need the type checker
// and double the run time; `npm run typecheck` already covers types.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'src/web/dist/', 'src/db/generated/', 'test-artifacts/', 'data/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a parameter or binding kept on purpose (positional callbacks, destructuring to omit).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // A CommonJS reproduction meant to be sent upstream as it is.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/web/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
