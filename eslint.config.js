import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'artifacts/**', 'data/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The pure core must not read the wall clock: time is an input.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'core is pure: inject now' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'core is pure: inject now' },
        { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'core is deterministic' },
      ],
    },
  },
  {
    // The engine kernel sits below the services: they build on it, it never reaches up into them. The
    // deterministic simulation runs the kernel itself, so what it tests is what the services start.
    files: ['src/engine/**/*.ts', 'src/deterministic-sim/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/services/**'], message: 'the kernel and the simulation must not import services' }] }],
    },
  },
);
