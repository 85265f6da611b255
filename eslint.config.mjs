// Lint rules for the TypeScript and JavaScript sources (AssemblyScript's kernels use its own types and
// are type-checked by asc instead). `npm run lint` runs this and Prettier's check.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'cdn/',
      'assembly/**/*.ts',
      'test/fixtures/build/',
      'bench/build/',
      'demo/models/',
      'demo/react/dist/',
      'demo/vue/dist/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      // Unused names are mistakes, except a deliberately ignored argument or rest sibling (`_x`, `...rest`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true, caughtErrors: 'none' },
      ],
      // Non-null assertions are used where the compiler's own invariants guarantee the value.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Chai's property assertions (`expect(x).to.exist`) are expressions by design.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
