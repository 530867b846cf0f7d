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
import type { Outbox } from '../outbox.ts';
import { errorText } from './common.ts';

/**
 * The form that adds a note to `alertId()`; hidden while the alert is closed (set by `update`). `add` sends it (by
 * default straight to the API; the officer's goes to the outbox) and answers the alert, or null for "sent later".
 */
export function noteForm(
  ctx: ViewContext,
  alertId: () => string,
  onAdded: (a: AlertEvent) => void,
  add: (text: string) => Promise<AlertEvent | null> = (text) => ctx.api.addNote(alertId(), text),
): { el: HTMLFormElement; update(a: AlertEvent): void; focus(): void } {
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
    add(note)
      .then(
        (a) => {
          text.value = '';
          if (a) onAdded(a);
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

/**
 * The officer's notes section of one card: the notes so far, newest last, then the officer's own still in the
 * outbox (no connection), and the form, which writes to the outbox.
 */
export function officerNotes(ctx: ViewContext, first: AlertEvent, outbox: Outbox): { el: HTMLElement; update(a: AlertEvent): void } {
  const list = h('ol', { class: 'notes', 'aria-label': 'Notes' });
  const waiting = h('ol', { class: 'notes notes-waiting', 'aria-label': 'Notes not sent yet' });
  let current = first;
  /** The note count last rendered; -1 before the first load (whose notes are not news). */
  let shown = -1;
  const form = noteForm(
    ctx,
    () => current.id,
    (a) => update(a),
    (text) => {
      outbox.add({ kind: 'note', alertId: current.id, cameraName: current.camera.name, text });
      return Promise.resolve(null);
    },
  );
  const el = h('section', { class: 'incident-notes', 'aria-label': 'Notes on this incident' }, h('h4', {}, 'Notes'), list, waiting, form.el);

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
        ? notes.map((n) => h('li', {}, h('time', { datetime: n.tappedAt ?? n.at }, formatClock(n.tappedAt ?? n.at)), ' ', h('strong', {}, n.username ?? n.actorRole ?? ''), ' ', h('q', {}, n.note ?? '')))
        : [h('li', { class: 'muted' }, 'No notes yet.')]),
    );
    // Someone else's new note is news for the officer in the street: say it, not only list it.
    if (before >= 0) for (const n of notes.slice(before)) if (n.username !== ctx.session.user.username) toast(`Note from ${n.username ?? 'dispatch'} on ${a.camera.name}: ${n.note ?? ''}`);
  }

  function update(a: AlertEvent): void {
    current = a;
    form.update(a);
    if (a.noteCount !== shown) void load(a);
    const mine = outbox.entries(a.id).flatMap((e) => (e.kind === 'note' ? [e] : []));
    replaceChildren(
      waiting,
      ...mine.map((e) =>
        h('li', { class: 'note-waiting' }, h('time', { datetime: e.tappedAt }, formatClock(e.tappedAt)), ' ', h('q', {}, e.text), ' ', h('span', { class: 'muted small' }, e.late ? 'not sent yet, no connection' : 'sending…')),
      ),
    );
  }
  update(first);
  return { el, update };
}
