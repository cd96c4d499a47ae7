import js from '@eslint/js'
import prettier from 'eslint-config-prettier/flat'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'
import { defineConfig } from 'eslint/config'
import pluginVue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/** Packages that need Node or a framework: never in the pure core, never in the sandboxed page. */
const nodeOnly = ['electron', 'knex', 'sqlite3', 'node:*', 'fs', 'path', 'http', 'child_process']

/**
 * The layers, held by the linter on resolved paths (README, "Folder map"): each folder lists what
 * it may not reach. Lower layers never import higher ones; the composition root (backend/runtime.ts)
 * sits above the services and the dispatcher it wires; the reference centre takes from the
 * terminal's backend only what backend/shared.ts offers; tests reach anything, nothing reaches tests.
 */
const everythingBut = (...allowed) =>
  [
    './core',
    './db',
    './backend',
    './electron',
    './renderer',
    './hub',
    './test',
    './bench',
    './fixtures',
    './scripts'
  ].filter((folder) => !allowed.includes(folder))
const zones = [
  {
    target: './core',
    from: everythingBut('./core'),
    message: 'core/ is the pure domain: it imports nothing of the other folders.'
  },
  {
    target: './db',
    from: everythingBut('./core', './db'),
    message: 'db/ sits on core/ only: nothing above it (backend, shells, centre, tests).'
  },
  {
    target: './backend',
    from: everythingBut('./core', './db', './backend'),
    message:
      'backend/ uses core/ and db/; the shells, the centre, tests and benches use it, not the other way.'
  },
  {
    target: './backend/services',
    from: ['./backend/api', './backend/runtime.ts', './backend/web', './backend/cli', './backend/shared.ts'],
    message:
      'Services sit below the dispatcher and the composition root (backend/runtime.ts), which wire them.'
  },
  {
    target: './backend/api',
    from: ['./backend/runtime.ts', './backend/web', './backend/cli'],
    message: 'The dispatcher sits below the composition root and the shells.'
  },
  {
    target: './electron',
    from: everythingBut('./core', './backend', './electron'),
    message: 'The Electron shell wires the backend (backend/runtime.ts) and stays thin.'
  },
  {
    target: './electron/preload',
    from: ['./backend'],
    message: 'The preload is one sandboxed CommonJS file: the channel names and types of core/ only.'
  },
  {
    target: './renderer',
    from: everythingBut('./core', './renderer'),
    message: 'The renderer talks to the backend only through the API contract (core/api).'
  },
  {
    target: './hub',
    from: './backend',
    except: ['./shared.ts'],
    message: 'The centre takes from the terminal’s backend only what backend/shared.ts offers.'
  },
  {
    target: './hub',
    from: everythingBut('./core', './db', './backend', './hub'),
    message: 'The reference centre is a system of its own: core/, db/ and backend/shared.ts only.'
  },
  {
    target: './fixtures',
    from: everythingBut('./core', './db', './fixtures'),
    message: 'Fixtures (generated test and benchmark data) build on core/ and db/ only.'
  },
  {
    target: './bench',
    from: ['./test'],
    message: 'Benchmarks share data with the tests through fixtures/, not test/.'
  },
  {
    target: './scripts',
    from: everythingBut('./core', './backend', './scripts'),
    message: 'Scripts are tools around the app: core/ and backend/ only.'
  }
]

export default defineConfig(
  {
    ignores: [
      'out/**',
      'dist/**',
      'release/**',
      'test-output/**',
      'node_modules/**',
      '.counter-data/**',
      '.hub-data/**'
    ]
  },
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
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.vue']
      }
    },
    rules: {
      // A promise nobody awaits or handles fails silently; `void` says on purpose.
      '@typescript-eslint/no-floating-promises': 'error',
      // An async function where a plain callback is expected (an event listener, forEach) drops its failure.
      '@typescript-eslint/no-misused-promises': 'error'
    }
  },
  {
    // Imports resolved as TypeScript resolves them (the @core and @ aliases included).
    files: ['**/*.ts', '**/*.vue', '**/*.js', '**/*.mjs', '**/*.cjs'],
    plugins: { 'import-x': importX },
    // A .vue file reached through an import is read with TypeScript in its <script setup>, as when linted itself.
    languageOptions: { parserOptions: { parser: tseslint.parser } },
    settings: {
      // How import-x reads the files an import leads to (for the cycle check): TypeScript and Vue.
      'import-x/extensions': ['.ts', '.js', '.mjs', '.cjs', '.vue'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'], 'vue-eslint-parser': ['.vue'] },
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['tsconfig.node.json', 'tsconfig.web.json'],
          noWarnOnMultipleProjects: true
        }),
        createNodeResolver()
      ]
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      // An import circle means two modules that cannot be understood (or loaded) one without the other.
      'import-x/no-cycle': ['error', { ignoreExternal: true }]
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
              group: [...nodeOnly, 'vue', 'pinia', 'element-plus', 'vue-i18n'],
              message: 'core/ is the pure domain: no I/O, no framework, no Electron.'
            }
          ]
        }
      ]
    }
  },
  {
    files: ['db/**', 'backend/**', 'hub/**', 'fixtures/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message:
                'Runs in plain Node too (browser mode, CLI, centre, tests): keep Electron in electron/main.'
            }
          ]
        }
      ]
    }
  }
)
