/// <reference types="vite/client" />
import type { CounterBridge } from '@core/api/contract'

declare global {
  interface Window {
    /** Present under Electron (the preload bridge); absent in browser mode, where HTTP is used. */
    readonly counter?: CounterBridge
  }
}

export {}

declare module 'vue-router' {
  interface RouteMeta {
    /** Shown before sign-in. */
    public?: boolean
    /** For supervisors only (the guard sends anyone else to the counter). */
    supervisor?: boolean
  }
}
