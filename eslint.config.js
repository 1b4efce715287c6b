import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// For every file tsc checks: the .ts files and the dashboard's JSDoc-typed browser client.
const typedRules = {
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': 'error',
  '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'artifacts/**', 'data/**', 'bin/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: typedRules,
  },
  {
    // The dashboard's browser client: plain JS, type-checked by tsc through JSDoc (its own tsconfig.json, found
    // by projectService), so it gets the type-aware rules of the TypeScript files. Names are checked by tsc
    // against the DOM library and uplot-global.d.ts, as for the .ts files, hence no-undef is off here too.
    files: ['src/services/dashboard/client/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: { uPlot: 'readonly' },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      ...typedRules,
      'no-undef': 'off',
    },
  },
  {
    // The fence: the core and the domain model depend on nothing but themselves, the cross-process contract
    // and zod. Adapters (exchange, log), services and Node depend on them, never the other way round.
    files: ['src/core/**/*.ts', 'src/model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // An allow-list: anything but zod, a sibling file, or a file of src/core, src/model or src/contract
              // (so exchange/, log/, services/, engine/, sim/, simulator/, util/, node: and npm packages are out).
              regex: '^(?!(zod|\\./[\\w.-]+|\\.\\./(core|model|contract)/[\\w.-]+)$)',
              message: 'core and model may import only from src/core, src/model, src/contract and zod',
            },
          ],
        },
      ],
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
