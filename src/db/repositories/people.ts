/**
 * How an alert's people are read with it (every AlertRecord carries them);
 * services/alert-view.ts maps them to the `people` of the alert contract.
 */
import type { AlertPerson } from '../generated/sqlite/client.ts';

/** Prisma `include` for an alert's people with their confirmed-frame counts. */
export const peopleInclude = {
  orderBy: [{ createdAt: 'asc' as const }, { id: 'asc' as const }],
  include: { _count: { select: { violations: true as const } } },
};

export type PersonRecord = AlertPerson & { _count: { violations: number } };
