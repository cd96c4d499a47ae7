/** The one IPC channel the preload bridge uses; kept apart so the preload bundle stays tiny. */
export const API_CHANNEL = 'counter:api'
