// ESLint flat config: type-aware typescript-eslint everywhere, React hooks and accessibility on the client.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import jsxA11y from 'eslint-plugin-jsx-a11y';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'drizzle/meta/**',
      'sdk/src/schema.ts',
      '.prof/**',
      '.data/**',
      'e2e/artifacts/**',
      'test-results/**',
      'playwright-report/**',
      'examples/python-app/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked against the tsconfig that owns it (root, sdk/, examples/ts-app/).
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits or catches loses its error: await it, or `void` it with a reason.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // An unused name is dead code or a mistake; a leading underscore says "deliberately unused".
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Off: removing `async` from a function without `await` turns its rejections into synchronous
      // throws (callers here rely on `.catch`), and interface methods are async by contract.
      '@typescript-eslint/require-await': 'off',
      // A reason caught as `unknown` and passed on unchanged is not ours to wrap.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    // Tests read untyped JSON (responses, SSE frames, Redis payloads) and check its values with
    // `expect`; the any-safety rules stay on for the code they test.
    files: ['**/*.test.ts', 'server/faults/**', 'server/test/**', 'server/soak/**', 'e2e/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['client/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks, 'jsx-a11y': jsxA11y },
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      // An effect or memo that misses a dependency shows stale data; intended omissions go through useEffectEvent.
      'react-hooks/exhaustive-deps': 'error',
      ...jsxA11y.flatConfigs.recommended.rules,
      // Off: focus moves on purpose into the one form a person just opened (sign-in, a new password,
      // a dialog's first field), as the WAI-ARIA dialog pattern asks; nothing else autofocuses.
      'jsx-a11y/no-autofocus': 'off',
      // The recommended options, plus a modal <dialog>'s backdrop mouse-down (Escape, its onCancel, is the keyboard way).
      'jsx-a11y/no-noninteractive-element-interactions': [
        'error',
        {
          handlers: ['onClick', 'onError', 'onLoad', 'onMouseDown', 'onMouseUp', 'onKeyPress', 'onKeyDown', 'onKeyUp'],
          alert: ['onKeyUp', 'onKeyDown', 'onKeyPress'],
          body: ['onError', 'onLoad'],
          dialog: ['onKeyUp', 'onKeyDown', 'onKeyPress', 'onMouseDown'],
          iframe: ['onError', 'onLoad'],
          img: ['onError', 'onLoad'],
        },
      ],
    },
  },
);
