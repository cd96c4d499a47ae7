import js from '@eslint/js'
import prettier from 'eslint-config-prettier/flat'
import { defineConfig } from 'eslint/config'
import pluginVue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/** Where each layer may not reach: the architecture, held by the linter. */
const nodeOnly = ['electron', 'knex', 'sqlite3', 'node:*', 'fs', 'path', 'http', 'child_process']

export default defineConfig(
  { ignores: ['out/**', 'dist/**', 'release/**', 'test-output/**', 'node_modules/**', '.counter-data/**'] },
  js.configs.recommended,
  tseslint.configs.strict,
  pluginVue.configs['flat/recommended'],
  // Layout is Prettier's: the stylistic rules that would argue with it are off.
  prettier,
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } }
  },
  {
    // Type-aware rules for the TypeScript and Vue sources (each file through the tsconfig that owns it).
    files: ['**/*.ts', '**/*.vue'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname, extraFileExtensions: ['.vue'] } },
    rules: {
      // A promise nobody awaits or handles fails silently; `void` says on purpose.
      '@typescript-eslint/no-floating-promises': 'error',
      // An async function where a plain callback is expected (an event listener, forEach) drops its failure.
      '@typescript-eslint/no-misused-promises': 'error'
    }
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // Leaving fields out by destructuring ({ a, ...rest }) is how an object is narrowed here.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off'
    }
  },
  {
    // electron-builder loads its hooks with require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: nodeOnly,
              message:
                'The renderer runs in a browser sandbox: reach the main process through the API client.'
            },
            {
              group: ['**/db/**', '**/electron/**'],
              message: 'The renderer talks to services only through the API contract.'
            }
          ]
        }
      ]
    }
  },
  {
    files: ['core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                ...nodeOnly,
                'vue',
                'pinia',
                'element-plus',
                'vue-i18n',
                '**/db/**',
                '**/electron/**',
                '**/renderer/**'
              ],
              message: 'core/ is the pure domain: no I/O, no framework, no Electron.'
            }
          ]
        }
      ]
    }
  },
  {
    files: ['db/**', 'backend/services/**', 'backend/api/**', 'backend/web/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message:
                'Services run in plain Node too (browser mode, CLI, tests): keep Electron in electron/main.'
            }
          ]
        }
      ]
    }
  }
)
