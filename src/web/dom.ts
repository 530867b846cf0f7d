/**
 * Tiny DOM builder. Text always goes through text nodes / setAttribute, never
 * innerHTML, so camera names, notes and reasons cannot inject markup.
 */
export type Child = Node | string | number | null | undefined | false;
type Handler = (ev: Event) => void;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

function applyAttrs(el: Element, attrs: Attrs): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else if (typeof value !== 'function') {
      el.setAttribute(key, String(value));
    }
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let idCounter = 0;
/** Unique ids for label/for and aria-describedby pairs. */
export function uid(prefix: string): string {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field: <label for=id>text</label> + control. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLElement {
  if (!control.id) control.id = uid('f');
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
}

export function option(value: string, label: string, selected = false): HTMLOptionElement {
  const o = h('option', { value }, label);
  o.selected = selected;
  return o;
}

/** Shows a transient notice; returns it, so a view can take back an error the user has since fixed. */
export function toast(message: string, kind: 'info' | 'error' = 'info'): HTMLElement | null {
  const host = document.getElementById('toasts');
  if (!host) return null;
  const t = h('div', { class: `toast toast-${kind}` }, message);
  host.appendChild(t);
  // A burst (steps recorded one after the other, notes) would stack over a phone's controls: the oldest give way,
  // errors last.
  const max = window.matchMedia?.('(max-width: 720px)').matches ? 2 : 4;
  while (host.children.length > max) {
    const older = [...host.children].filter((c) => c !== t);
    (older.find((c) => !c.classList.contains('toast-error')) ?? older[0])!.remove();
  }
  // Toasts are transient notices; the state they describe is visible elsewhere.
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
  return t;
}

/** Saves a file the API answered (fetched with the bearer header, so a plain link cannot download it). */
export function saveBlob(blob: Blob, filename: string): void {
  const a = h('a', { href: URL.createObjectURL(blob), download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
