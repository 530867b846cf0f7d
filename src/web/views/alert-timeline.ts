/** The alert's timeline in the dispatcher's detail: raised, then each audited step. */
import type { AlertEvent } from '../../realtime/events.ts';
import { OUTCOME_LABELS, statusLabel } from '../alert-list.ts';
import type { TimelineEntry } from '../api.ts';
import { h } from '../dom.ts';
import { formatClock } from '../format.ts';

const STEP_LABELS: Record<string, string> = {
  'alert.dispatch': 'Dispatched',
  'alert.acknowledge': 'Acknowledged',
  'alert.en_route': 'En route',
  'alert.on_scene': 'On scene',
  'alert.resolve': 'Resolved',
  'alert.dismiss': 'Dismissed',
  'alert.escalated': 'Escalated',
  'alert.person_false_positive': 'A person marked not a violation',
  'alert.note': 'Note',
};

export function describeStep(action: string, to: string | null): string {
  return STEP_LABELS[action] ?? (to ? statusLabel(to as AlertEvent['status']) : action);
}


export function timelineItems(alert: AlertEvent, entries: readonly TimelineEntry[], unitName: (id: string) => string | null): HTMLElement[] {
  const raised = h('li', {}, h('time', { datetime: alert.createdAt }, formatClock(alert.createdAt)), h('span', {}, 'Alert raised by camera'));
  return [
    raised,
    ...entries.map((e) =>
      h(
        'li',
        {},
        h('time', { datetime: e.at }, formatClock(e.at)),
        h('span', {}, `${describeStep(e.action, e.to)}${e.action === 'alert.dispatch' && e.unitId ? ` → ${unitName(e.unitId)}` : ''}${e.outcome ? `: ${OUTCOME_LABELS[e.outcome]}` : ''} · ${e.username ?? e.actorRole ?? 'system'}`),
        // Sent late from a phone without a connection: when it was tapped, beside when it was recorded.
        e.tappedAt ? h('span', { class: 'muted small tapped' }, ` (${e.action === 'alert.note' ? 'written' : 'tapped'} ${formatClock(e.tappedAt)}, sent when back online)`) : null,
        e.note ? h('q', {}, e.note) : null,
      ),
    ),
  ];
}
