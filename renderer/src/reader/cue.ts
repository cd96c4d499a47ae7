/**
 * A short sound for a read: one high beep when a card is taken, two low ones when a read is bad,
 * so a clerk looking at the customer hears what happened. Web Audio, no sound files. The last cue
 * is also written on <html data-last-cue> for whoever checks the page (tests, a technician).
 */
let context: AudioContext | null = null

function beep(audio: AudioContext, frequency: number, startAt: number, durationS: number): void {
  const oscillator = audio.createOscillator()
  const gain = audio.createGain()
  oscillator.frequency.value = frequency
  gain.gain.setValueAtTime(0.15, startAt)
  gain.gain.exponentialRampToValueAtTime(0.001, startAt + durationS)
  oscillator.connect(gain).connect(audio.destination)
  oscillator.start(startAt)
  oscillator.stop(startAt + durationS)
}

export function playCue(kind: 'ok' | 'error'): void {
  document.documentElement.dataset.lastCue = kind
  try {
    context ??= new AudioContext()
    const at = context.currentTime
    if (kind === 'ok') beep(context, 1320, at, 0.08)
    else {
      beep(context, 330, at, 0.14)
      beep(context, 330, at + 0.2, 0.14)
    }
  } catch {
    // No audio device: the visible cue stands alone.
  }
}
