import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'electron-vite'

const core = resolve('core')

export default defineConfig({
  main: {
    resolve: { alias: { '@core': core } },
    build: {
      rolldownOptions: {
        // The Electron shell and the browser-mode server share one build of the services. The
        // snapshot import hashes and seals on worker threads, which start from their own file.
        input: {
          index: resolve('electron/main/index.ts'),
          web: resolve('backend/web/main.ts'),
          'snapshot-worker': resolve('backend/services/sync/snapshot/worker.ts')
        }
      }
    }
  },
  preload: {
    resolve: { alias: { '@core': core } },
    build: {
      rolldownOptions: {
        input: { index: resolve('electron/preload/index.ts') },
        // A sandboxed preload is run as a classic script: one CommonJS file, nothing to import.
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: 'renderer',
    // Relative asset URLs, so the same build loads from app:// (Electron) and http:// (browser mode).
    base: './',
    resolve: { alias: { '@core': core, '@': resolve('renderer/src') } },
    plugins: [vue()],
    build: {
      rolldownOptions: { input: resolve('renderer/index.html') },
      chunkSizeWarningLimit: 1500
    }
  }
})
