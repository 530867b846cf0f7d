/** Pure display formatting (no DOM), unit-tested. */

export function formatPercent(p: number): string {
  if (!Number.isFinite(p)) return '–';
  return `${Math.round(Math.min(1, Math.max(0, p)) * 100)} %`;
}

/**
 * A model's score, which is not a certainty: never shown as 0 % or 100 % (a "100 % no mask" reads as
 * proof to an officer), but as "< 1 %" / "> 99 %" at the ends.
 */
export function formatModelScore(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p < 0.01) return '< 1 %';
  if (p > 0.99) return '> 99 %';
  return formatPercent(p);
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    const r = s % 60;
    return r ? `${m} min ${r} s` : `${m} min`;
  }
  const hrs = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${hrs} h ${String(m).padStart(2, '0')} min`;
}

/**
 * A live, ticking duration (how long an alert has been open): whole minutes only, as the screens
 * refresh it every few seconds; seconds would look frozen between refreshes.
 */
export function formatElapsed(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return '<1 min';
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function formatAgo(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '–';
  const s = (now - t) / 1000;
  if (s < 60) return 'just now';
  return `${formatElapsed(s)} ago`;
}

export function formatClock(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return `${d.toLocaleDateString('en-CA')} ${formatClock(iso)}`;
}

export function formatDistance(meters: number): string {
  if (!Number.isFinite(meters)) return '–';
  return meters < 1000 ? `${Math.round(meters)} m` : `${(meters / 1000).toFixed(1)} km`;
}

export function formatCoord(lat: number, lon: number): string {
  return `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
}

/** A link any phone opens in its map app or browser; only a link, nothing loads offline. */
export function mapsUrl(lat: number, lon: number): string {
  const la = lat.toFixed(6);
  const lo = lon.toFixed(6);
  return `https://www.openstreetmap.org/?mlat=${la}&mlon=${lo}#map=18/${la}/${lo}`;
}

/** `<input type="datetime-local">` value (local time) → ISO 8601, or undefined when empty. */
export function localInputToIso(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Date → `<input type="datetime-local">` value in local time. */
export function isoToLocalInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
