/**
 * Snapshots are served only to logged-in users, and an <img src> cannot send a
 * bearer header: fetch them with the token and show them as data: URLs (data:
 * is allowed by the default CSP, blob: is not).
 */
import type { Api } from './api.ts';
import { h } from './dom.ts';

const cache = new Map<string, Promise<string>>();
const MAX_CACHED = 120;

function toDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.readAsDataURL(blob);
  });
}

export function authImage(api: Api, url: string | null | undefined, alt: string, className = 'snapshot'): HTMLElement {
  if (!url) return h('div', { class: `${className} snapshot-missing`, role: 'img', 'aria-label': `${alt}: not available` }, 'No image');
  const img = h('img', { class: className, alt, decoding: 'async' });
  let pending = cache.get(url);
  if (pending) {
    cache.delete(url); // re-insert: Map order doubles as least-recently-used order
  } else {
    pending = api.blob(url).then(toDataUrl);
    pending.catch(() => cache.delete(url));
  }
  cache.set(url, pending);
  // A dispatcher's tab stays open for a whole shift: keep memory bounded.
  while (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  pending.then(
    (src) => {
      img.src = src;
    },
    () => {
      img.replaceWith(h('div', { class: `${className} snapshot-missing`, role: 'img', 'aria-label': `${alt}: failed to load` }, 'Image unavailable'));
    },
  );
  return img;
}

/**
 * Drops cached images, so the next authImage() fetches them again: an alert's frame is rendered for
 * its people on each request (only they are unblurred), so it changes under the same URL when a
 * person is marked a false positive or joins.
 */
export function forgetImages(urls: Iterable<string | null | undefined>): void {
  for (const url of urls) if (url) cache.delete(url);
}

/**
 * The annotated frame of an alert, or — for an edge camera (`maskwatch agent --analyze`), whose frames
 * never leave the site — a note saying why there is none: the face crops are the evidence.
 */
export function frameImage(api: Api, url: string | null | undefined, alt: string, className = 'snapshot'): HTMLElement {
  if (url) return authImage(api, url, alt, className);
  return h('div', { class: `${className} snapshot-missing`, role: 'img', 'aria-label': `${alt}: not uploaded` }, 'No frame: analysed on site (edge camera); the face crops are the evidence');
}

export function clearImageCache(): void {
  cache.clear();
}
