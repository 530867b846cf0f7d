/**
 * The one mapping from stored people of an alert to the `people` array of the
 * alert contract (API items, alert.created / alert.updated, webhooks).
 */
import type { AlertPerson } from '../generated/sqlite/client.ts';
import type { AlertPersonEvent } from '../../realtime/events.ts';
import { snapshotUrl } from '../../realtime/snapshot-url.ts';

/** Prisma `include` for an alert's people with their confirmed-frame counts. */
export const peopleInclude = {
  orderBy: [{ createdAt: 'asc' as const }, { id: 'asc' as const }],
  include: { _count: { select: { violations: true as const } } },
};

export type PersonRow = AlertPerson & { _count: { violations: number } };

export function toPersonEvent(p: PersonRow): AlertPersonEvent {
  return {
    id: p.id,
    label: p.label === 'mask_incorrect' ? 'mask_incorrect' : 'no_mask',
    box: [p.boxX, p.boxY, p.boxW, p.boxH],
    frames: p._count.violations,
    noMaskProbability: p.noMaskProbability,
    snapshotUrl: snapshotUrl(p.bestShotPath),
    firstSeenAt: p.firstSeenAt.toISOString(),
    lastSeenAt: p.lastSeenAt.toISOString(),
    frameSnapshotUrl: snapshotUrl(p.lastFrameSnapshotPath),
    falsePositive: p.falsePositive,
    falsePositiveReason: p.falsePositiveReason,
  };
}
