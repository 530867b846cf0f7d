/**
 * Notes on an open incident (POST /api/v1/alerts/:id/notes): what a caller added, what the officer found. The
 * dispatcher's detail shows them in the timeline and adds them here; the officer's card lists them, adds them,
 * and tells the officer of a note someone else added.
 */
import type { AlertEvent } from '../../realtime/events.ts';
import { isOpen } from '../alert-list.ts';
import type { TimelineEntry } from '../api.ts';
import type { ViewContext } from '../context.ts';
import { h, replaceChildren, toast, uid } from '../dom.ts';
import { formatClock } from '../format.ts';
import { errorText } from './common.ts';

/** The form that adds a note to `alertId()`; hidden while the alert is closed (set by `update`). */
export function noteForm(ctx: ViewContext, alertId: () => string, onAdded: (a: AlertEvent) => void): { el: HTMLFormElement; update(a: AlertEvent): void; focus(): void } {
  const text = h('textarea', { name: 'text', rows: 2, maxlength: 1000, id: uid('note'), placeholder: 'e.g. caller adds: red jacket, heading north' }) as HTMLTextAreaElement;
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-small' }, 'Add note');
  const el = h('form', { class: 'note-form', 'aria-label': 'Add a note' }, h('label', { for: text.id }, 'Add a note'), text, error, submit) as HTMLFormElement;
  text.addEventListener('input', () => (error.textContent = ''));
  el.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const note = text.value.trim();
    if (!note) {
      error.textContent = 'Write the note first.';
      text.focus();
      return;
    }
    submit.disabled = true;
    ctx.api
      .addNote(alertId(), note)
      .then(
        (a) => {
          text.value = '';
          onAdded(a);
        },
        (err: unknown) => (error.textContent = `Not added: ${errorText(err)}`),
      )
      .finally(() => (submit.disabled = false));
  });
  return {
    el,
    update(a) {
      el.hidden = !isOpen(a.status);
    },
    /** Puts the cursor in the note (the dispatcher's `n`); nothing while the alert is closed. */
    focus() {
      if (el.hidden) return;
      text.focus();
      text.scrollIntoView({ block: 'nearest' });
    },
  };
}

const notesOf = (entries: readonly TimelineEntry[]) => entries.filter((e) => e.action === 'alert.note');

/** The officer's notes section of one card: the notes so far, newest last, and the form. */
export function officerNotes(ctx: ViewContext, first: AlertEvent): { el: HTMLElement; update(a: AlertEvent): void } {
  const list = h('ol', { class: 'notes', 'aria-label': 'Notes' });
  let current = first;
  /** The note count last rendered; -1 before the first load (whose notes are not news). */
  let shown = -1;
  const form = noteForm(ctx, () => current.id, (a) => update(a));
  const el = h('section', { class: 'incident-notes', 'aria-label': 'Notes on this incident' }, h('h4', {}, 'Notes'), list, form.el);

  async function load(a: AlertEvent): Promise<void> {
    const before = shown;
    shown = a.noteCount;
    let notes: TimelineEntry[];
    try {
      notes = notesOf((await ctx.api.timeline(a.id)).items);
    } catch {
      shown = before; // tried again at the next update
      return;
    }
    replaceChildren(
      list,
      ...(notes.length
        ? notes.map((n) => h('li', {}, h('time', { datetime: n.at }, formatClock(n.at)), ' ', h('strong', {}, n.username ?? n.actorRole ?? ''), ' ', h('q', {}, n.note ?? '')))
        : [h('li', { class: 'muted' }, 'No notes yet.')]),
    );
    // Someone else's new note is news for the officer in the street: say it, not only list it.
    if (before >= 0) for (const n of notes.slice(before)) if (n.username !== ctx.session.user.username) toast(`Note from ${n.username ?? 'dispatch'} on ${a.camera.name}: ${n.note ?? ''}`);
  }

  function update(a: AlertEvent): void {
    current = a;
    form.update(a);
    if (a.noteCount !== shown) void load(a);
  }
  update(first);
  return { el, update };
}
