// Lint for the whole repository, type-aware: each file is checked against the tsconfig
// that owns it (Node side, webview, tests, bench). The rules that matter most here catch
// promises nobody awaits (a repair that fails silently) and code nobody uses.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.tools/**',
      '.e2e/**',
      '.bench-cache/**',
      '.vscode-test/**',
      'test/vscode/runner/**',
      '**/*.cjs',
      '**/*.mjs',
      '**/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unused-expressions': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/require-await': 'off',
      'no-unreachable': 'error',
      eqeqeq: ['error', 'smart'],
      // Errors here are often foreign values (a native addon's, a child process's): reading
      // `.message` off them is deliberate, guarded where it matters.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },
  {
    // Tests type their CommonJS fixtures with method signatures (`require(…) as { f(): … }`)
    // and pass those functions around; none of them uses `this`.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  // The layers (docs/DESIGN.md § Layers): host → shared ← server → engine; webviews reach
  // the host only through src/shared. A wrong-way import fails the lint, not a review.
  ...layer('src/engine/**/*.ts', ['**/host/**', '**/server/**', '**/webview/**', '**/bin/**'], ['vscode', 'vscode-languageclient', 'vscode-languageserver']),
  ...layer('src/lint/**/*.ts', ['**/host/**', '**/server/**', '**/engine/**', '**/webview/**'], ['vscode', 'vscode-languageclient', 'vscode-languageserver']),
  ...layer('src/server/**/*.ts', ['**/host/**', '**/webview/**', '**/bin/**'], ['vscode', 'vscode-languageclient']),
  ...layer('src/shared/**/*.ts', ['**/host/**', '**/server/**', '**/engine/**', '**/lint/**', '**/webview/**', '**/bin/**'], ['vscode', '@vscode/sqlite3']),
  ...layer('src/host/**/*.ts', ['**/engine/**', '**/server/**', '**/lint/**', '**/webview/**', '**/bin/**'], ['@vscode/sqlite3', 'node:sqlite']),
  ...layer('webview/**/*.ts', ['**/src/host/**', '**/src/server/**', '**/src/engine/**', '**/src/lint/**', '**/src/bin/**'], ['vscode', 'node:*']),
);

function layer(files, forbiddenPaths, forbiddenModules) {
  return [
    {
      files: [files],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              { group: forbiddenPaths, message: 'This import runs against the layers in docs/DESIGN.md § Layers.' },
              { group: forbiddenModules, message: 'This layer may not use that module (docs/DESIGN.md § Layers).' },
            ],
          },
        ],
      },
    },
  ];
}
