/** The retention rule, pure: what is "older than the limit". */
export const DAY_MS = 24 * 3600 * 1000;

export function retentionCutoff(now: Date, retentionDays: number): Date {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) {
    throw new RangeError(`retentionDays must be a positive integer, got ${retentionDays}`);
  }
  return new Date(now.getTime() - retentionDays * DAY_MS);
}
