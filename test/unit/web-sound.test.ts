/** Alert sounds (src/web/sound.ts): the "sound blocked" notice hears whenever audio becomes usable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

/** A stand-in for the browser's AudioContext: its state and statechange events are all sound.ts looks at. */
class FakeAudioContext extends EventTarget {
  static last: FakeAudioContext | null = null;
  state: AudioContextState = 'running';
  constructor() {
    super();
    FakeAudioContext.last = this;
  }
  setState(next: AudioContextState): void {
    this.state = next;
    this.dispatchEvent(new Event('statechange'));
  }
  resume(): Promise<void> {
    this.setState('running');
    return Promise.resolve();
  }
}

test('listeners hear of usable audio even when the new context is already running, and after a later resume', async () => {
  (globalThis as { AudioContext?: unknown }).AudioContext = FakeAudioContext;
  const sound = await import('../../src/web/sound.ts');
  let calls = 0;
  const off = sound.onAudioUnlocked(() => (calls += 1));
  assert.equal(sound.audioBlocked(), true, 'no context yet: blocked until a gesture');

  // After a reload the browser may allow audio at once: the context is born running.
  sound.unlockAudio();
  assert.equal(sound.audioBlocked(), false);
  assert.equal(calls, 1, 'the listener fired although there was nothing to resume');

  // Suspended later (e.g. the device was taken away), then resumed by the next gesture.
  FakeAudioContext.last!.setState('suspended');
  assert.equal(sound.audioBlocked(), true);
  assert.equal(calls, 1);
  sound.unlockAudio();
  await Promise.resolve();
  assert.equal(sound.audioBlocked(), false);
  assert.ok(calls >= 2, 'the resume was heard');
  off();
});
