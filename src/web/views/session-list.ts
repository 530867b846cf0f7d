/** A list of sessions (where someone is signed in), each with a Sign out button: Your account, and Admin › Users. */
import { ApiError, type SessionView } from '../api.ts';
import { h, replaceChildren } from '../dom.ts';
import { formatDateTime } from '../format.ts';
import { errorText } from './common.ts';

/** "Chrome on Android" from a user agent; the raw string stays in the title. */
export function deviceName(userAgent: string | null): string {
  if (!userAgent) return 'Unknown client';
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : null;
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Windows/.test(userAgent)
        ? 'Windows'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? userAgent.slice(0, 40);
}

export interface SessionListOptions {
  label: string;
  load(): Promise<SessionView[]>;
  end(sessionId: string): Promise<void>;
  /** Where a refusal is shown. */
  error: HTMLElement;
  /** The list is the viewer's own: their current session is marked and cannot be signed out here. */
  thisBrowser: boolean;
}

/** The list, loaded at once and again after each sign-out. */
export function sessionList(opts: SessionListOptions): HTMLUListElement {
  const list = h('ul', { class: 'session-list', 'aria-label': opts.label }, h('li', { class: 'muted' }, 'Loading…'));

  function row(s: SessionView): HTMLElement {
    const current = opts.thisBrowser && s.current;
    const end = current ? null : h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Sign out ${deviceName(s.userAgent)} (${s.clientIp ?? 'unknown address'})` }, 'Sign out');
    end?.addEventListener('click', () => {
      end.disabled = true;
      opts.end(s.id).then(load, (err: unknown) => {
        // Ended meanwhile (expired, signed out elsewhere): the list is simply out of date.
        if (err instanceof ApiError && err.status === 404) return load();
        opts.error.textContent = errorText(err);
        end.disabled = false;
      });
    });
    return h(
      'li',
      { class: 'session-row' },
      h('span', { title: s.userAgent ?? '' }, h('strong', {}, deviceName(s.userAgent)), current ? h('span', { class: 'badge unit-AVAILABLE' }, 'This browser') : null),
      h('span', { class: 'muted small' }, `${s.signInMethod === 'sso' ? 'single sign-on · ' : ''}${s.clientIp ?? 'unknown address'} · since ${formatDateTime(s.createdAt)} · until ${formatDateTime(s.expiresAt)}`),
      end,
    );
  }

  async function load(): Promise<void> {
    try {
      const sessions = await opts.load();
      replaceChildren(list, ...(sessions.length ? sessions.map(row) : [h('li', { class: 'muted' }, 'Signed in nowhere.')]));
    } catch (err) {
      replaceChildren(list, h('li', { class: 'form-error' }, errorText(err)));
    }
  }

  void load();
  return list;
}
