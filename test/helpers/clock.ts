/**
 * The instant a test treats as "now", so a test that cuts time into buckets can be run at any time of day,
 * including the awkward ones: TEST_NOW=23:59:30 (UTC, the latest such instant that is not in the future)
 * or a full ISO timestamp. It must not be in the future: the system stamps later steps (dispatch,
 * resolve) with its own clock, and those must come after the data the test back-dates.
 */
export function testClock(env: NodeJS.ProcessEnv = process.env, real: () => Date = () => new Date()): () => Date {
  const spec = env.TEST_NOW;
  if (!spec) return real;
  const now = real();
  let fixed: Date;
  const timeOfDay = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(spec);
  if (timeOfDay) {
    fixed = new Date(now);
    fixed.setUTCHours(Number(timeOfDay[1]), Number(timeOfDay[2]), Number(timeOfDay[3] ?? 0), 0);
    if (fixed > now) fixed = new Date(fixed.getTime() - 86_400_000);
  } else {
    fixed = new Date(spec);
    if (Number.isNaN(fixed.getTime())) throw new Error(`TEST_NOW="${spec}" is neither HH:MM[:SS] nor an ISO timestamp`);
    if (fixed > now) throw new Error(`TEST_NOW="${spec}" is in the future`);
  }
  // The faked clock still advances, so stamps taken in order stay in order.
  const offset = fixed.getTime() - now.getTime();
  return () => new Date(real().getTime() + offset);
}

/** Start of the UTC hour containing `t`. */
export function startOfHour(t: Date): Date {
  return new Date(Math.floor(t.getTime() / 3_600_000) * 3_600_000);
}
