/**
 * Alert sounds, synthesised (no audio files, works offline). Browsers keep
 * audio suspended until the page gets a user gesture: the sign-in click counts
 * (same page), and after a reload the first click or key press anywhere unlocks
 * it; until then `audioBlocked()` is true and the console says so.
 */
let ctx: AudioContext | null = null;
const listeners = new Set<() => void>();

function notifyUnlocked(): void {
  listeners.forEach((l) => l());
}

function context(): AudioContext | null {
  try {
    if (!ctx) {
      ctx = new AudioContext();
      // However audio becomes usable (a resume, the browser allowing it later), the page hears of it.
      ctx.addEventListener('statechange', () => {
        if (ctx?.state === 'running') notifyUnlocked();
      });
    }
    return ctx;
  } catch {
    return null; // no Web Audio (very old or locked-down browser): the visual cues remain
  }
}

/**
 * Call from a user gesture: creates/resumes the audio context. A context that is
 * already running (after a reload the browser may allow audio at once) still
 * notifies the listeners: they were told it was blocked before it existed.
 */
export function unlockAudio(): void {
  const c = context();
  if (!c) return;
  if (c.state === 'running') {
    notifyUnlocked();
    return;
  }
  void c.resume().then(
    () => {
      if (c.state === 'running') notifyUnlocked();
    },
    () => undefined, // still blocked: the next gesture tries again
  );
}

export function audioBlocked(): boolean {
  return !ctx || ctx.state !== 'running';
}

/** Called when audio becomes available; returns the unsubscribe function. */
export function onAudioUnlocked(listener: () => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

let gestureHooked = false;
/** Unlocks audio on the page's next click or key press (after a reload there was no sign-in click). */
export function unlockOnNextGesture(): void {
  if (gestureHooked) return;
  gestureHooked = true;
  const once = () => {
    unlockAudio();
    if (!audioBlocked()) {
      document.removeEventListener('pointerdown', once, true);
      document.removeEventListener('keydown', once, true);
      gestureHooked = false;
    }
  };
  document.addEventListener('pointerdown', once, true);
  document.addEventListener('keydown', once, true);
}

function tones(freqs: readonly number[], step: number, length: number, volume: number): boolean {
  const c = context();
  if (!c || c.state !== 'running') return false;
  const now = c.currentTime;
  for (const [i, freq] of freqs.entries()) {
    const osc = c.createOscillator();
    const gain = c.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + i * step);
    gain.gain.exponentialRampToValueAtTime(volume, now + i * step + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * step + length);
    osc.connect(gain).connect(c.destination);
    osc.start(now + i * step);
    osc.stop(now + i * step + length + 0.01);
  }
  return true;
}

/** A short two-tone chime for a new alert; false when audio is blocked (nothing played). */
export function chime(): boolean {
  return tones([880, 1320], 0.18, 0.16, 0.2);
}

/** A more insistent, lower three-tone alarm for an escalation. */
export function alarm(): boolean {
  return tones([660, 440, 660, 440], 0.16, 0.14, 0.28);
}
