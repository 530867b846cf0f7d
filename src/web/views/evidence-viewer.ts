/**
 * Evidence of an incident: the annotated frame (rendered by the server for this
 * alert: only its people unblurred), zoomable, with the selected person
 * highlighted and the other people numbered; the people as a list (best shot,
 * label, last seen); the selected person's crops over time; and, for
 * dispatchers, marking one person a false positive. The officer view uses
 * peopleStrip(): the people large, as the camera saw them, with last-seen time (its card gives the camera's address).
 */
import type { AlertEvent, AlertPersonEvent } from '../../realtime/events.ts';
import type { Api } from '../api.ts';
import { h, replaceChildren, s, toast } from '../dom.ts';
import { formatAgo, formatClock, formatModelScore } from '../format.ts';
import { authImage, forgetImages, frameImage } from '../images.ts';
import { centredZoom, personContext } from '../zoom-view.ts';
import { maskedSinceText, PERSON_LABEL_TEXT } from './common.ts';

interface TrackItem {
  capturedAt: string;
  box: [number, number, number, number];
  noMaskProbability: number;
  snapshotUrl: string | null;
}

const ZOOM_STEPS = [1, 1.5, 2, 3, 4];

/**
 * A person's facts under their label, one per line (a tile is narrow; joined, they wrapped mid-fact). The model's
 * P(no mask) is given only for a no_mask person: beside "Mask worn incorrectly" a bare "5 %" read as the confidence
 * of that label.
 */
export function personFacts(p: Pick<AlertPersonEvent, 'label' | 'noMaskProbability' | 'frames' | 'lastSeenAt'>): string[] {
  const facts = [`${p.frames} frame${p.frames === 1 ? '' : 's'}`, `last seen ${formatClock(p.lastSeenAt)}`];
  return p.label === 'no_mask' ? [`model score ${formatModelScore(p.noMaskProbability)}`, ...facts] : facts;
}

/** "Now wearing a mask, since …" under a person, or nothing. */
function maskedLine(p: AlertPersonEvent): HTMLElement | null {
  const text = maskedSinceText(p);
  return text ? h('span', { class: 'person-masked' }, text) : null;
}

/** The frame a person is drawn on: their own last-seen frame, else the alert's. */
function frameOf(alert: AlertEvent, person: AlertPersonEvent | undefined): string | null {
  return person?.frameSnapshotUrl ?? alert.frameSnapshotUrl;
}

export interface EvidenceViewer {
  el: HTMLElement;
  update(alert: AlertEvent): void;
  /** The selected person's id (tests, keyboard). */
  selected(): string | null;
}

export function createEvidenceViewer(deps: { api: Api; canReview: boolean; onChange?(alert: AlertEvent): void }): EvidenceViewer {
  let alert: AlertEvent | null = null;
  let selectedId: string | null = null;
  let zoom = 0;
  /** What the stage shows or is loading: a frame's URL, or without one (edge camera) the chosen person's crop. */
  let shownKey: string | undefined;
  let trackKey = '';
  /** Who the alert's frames show unblurred: its people not marked false positive (the server renders them so). */
  let peopleKey = '';

  const stage = h('div', { class: 'evidence-stage' });
  const canvas = h('div', { class: 'evidence-canvas' });
  const overlay = s('svg', { class: 'evidence-overlay', 'aria-hidden': 'true', preserveAspectRatio: 'none' });
  stage.append(canvas);
  const zoomLabel = h('span', { class: 'muted evidence-zoom-label' }, '100 %');
  const zoomIn = h('button', { class: 'btn', type: 'button', 'aria-label': 'Zoom in' }, '+');
  const zoomOut = h('button', { class: 'btn', type: 'button', 'aria-label': 'Zoom out' }, '−');
  const zoomReset = h('button', { class: 'btn', type: 'button' }, 'Fit');
  const people = h('ol', { class: 'evidence-people', 'aria-label': 'People in this incident' });
  const track = h('div', { class: 'evidence-track', 'aria-label': 'Crops of the selected person over time' });
  const reason = h('input', { type: 'text', maxlength: '500', placeholder: 'Reason (e.g. poster, mask hidden by hand)', 'aria-label': 'False-positive reason' });
  const markBtn = h('button', { class: 'btn', type: 'button' }, 'Not a violation');
  const review = h('div', { class: 'evidence-review' }, reason, markBtn);
  const tools = h('div', { class: 'evidence-tools' }, zoomOut, zoomLabel, zoomIn, zoomReset);
  review.hidden = !deps.canReview;
  const el = h(
    'section',
    { class: 'evidence', 'aria-label': 'Evidence' },
    stage,
    tools,
    people,
    track,
    review,
  );

  const selectedPerson = () => alert?.people.find((p) => p.id === selectedId);
  /** The "give a reason" error, taken back once the person is marked. */
  let reasonError: HTMLElement | null = null;

  /** Zoom that brings the selected person's box to the middle of the stage (as near as the frame's edges allow). */
  function applyZoom(): void {
    const scale = ZOOM_STEPS[zoom]!;
    zoomLabel.textContent = `${Math.round(scale * 100)} %`;
    const img = canvas.querySelector<HTMLImageElement>('img.evidence-frame:not(.is-pending)');
    // Centred on the chosen person once the picture on view is their frame (not while it loads).
    const p = alert && img && frameOf(alert, selectedPerson()) === img.dataset.frame ? selectedPerson() : undefined;
    const centre = p && img && img.naturalWidth > 0 ? { x: (p.box[0] + p.box[2] / 2) / img.naturalWidth, y: (p.box[1] + p.box[3] / 2) / img.naturalHeight } : { x: 0.5, y: 0.5 };
    const { tx, ty } = centredZoom(scale, centre);
    canvas.style.transform = `translate(${tx}%, ${ty}%) scale(${scale})`;
    zoomOut.disabled = zoom === 0;
    zoomIn.disabled = zoom === ZOOM_STEPS.length - 1;
  }

  /** The whole frame fits the stage (at most 60 % of the viewport high), so the overlay's boxes sit on the picture. */
  function fitCanvas(img: HTMLImageElement): void {
    canvas.style.width = `min(100%, calc(60vh * ${img.naturalWidth} / ${img.naturalHeight}))`;
  }

  /** Boxes for the frame on view, not one still loading: a box is drawn only on the picture it was measured in. */
  function drawOverlay(): void {
    const img = canvas.querySelector<HTMLImageElement>('img.evidence-frame:not(.is-pending)');
    if (!alert || !img || img.naturalWidth === 0) return;
    overlay.setAttribute('viewBox', `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
    const frame = img.dataset.frame;
    const stroke = Math.max(2, img.naturalWidth / 250);
    // One size for every number (not a share of its face): a near, large bystander's number must not outshine the chosen person's.
    const fontSize = Math.max(12, img.naturalWidth / 28);
    const shapes = alert.people.flatMap((p, i) => {
      // A box is only meaningful on the frame it was measured in.
      if (frameOf(alert!, p) !== frame) return [];
      const chosen = p.id === selectedId;
      const [x, y, w, hgt] = p.box;
      return [
        s('rect', {
          x,
          y,
          width: w,
          height: hgt,
          class: `person-box${chosen ? ' selected' : ''}${p.falsePositive ? ' false-positive' : ''}`,
          'data-person-id': p.id,
          'stroke-width': chosen ? stroke * 2 : stroke,
        }),
        s('text', { x: x + 2, y: Math.max(fontSize, y - 4), class: `person-number${chosen ? ' selected' : ''}`, 'font-size': chosen ? fontSize * 1.25 : fontSize }, String(i + 1)),
      ];
    });
    replaceChildren(overlay, ...shapes);
  }

  function showFrame(): void {
    if (!alert) return;
    const person = selectedPerson();
    const url = frameOf(alert, person);
    const crop = person?.snapshotUrl ?? alert.snapshotUrl;
    const key = url ?? `crop:${crop}`;
    if (key === shownKey) return;
    shownKey = key;
    // An edge camera's alert has no frame (frames never leave the site): the chosen person's crop is the evidence, nothing to zoom.
    tools.hidden = url === null;
    if (url === null) {
      zoom = 0;
      canvas.style.transform = '';
      canvas.style.width = '';
      replaceChildren(
        canvas,
        h('figure', { class: 'evidence-noframe' }, authImage(deps.api, crop, `Face crop at ${alert.camera.name}`, 'snapshot evidence-crop'), h('figcaption', { class: 'muted' }, 'No frame: analysed on site (edge camera); the face crops are the evidence')),
      );
      return;
    }
    const img = frameImage(deps.api, url, `Annotated frame from ${alert.camera.name}`, 'snapshot snapshot-frame evidence-frame');
    const previous = canvas.querySelector<HTMLImageElement>('img.evidence-frame[src]:not(.is-pending)');
    if (img instanceof HTMLImageElement) {
      img.dataset.frame = url;
      img.addEventListener('load', () => {
        if (!img.isConnected) return; // another frame was asked for meanwhile
        for (const other of canvas.querySelectorAll('img.evidence-frame')) if (other !== img) other.remove();
        img.classList.remove('is-pending');
        fitCanvas(img);
        drawOverlay();
        applyZoom();
      });
      if (previous) {
        // The frame re-rendered (a person marked, another one chosen) takes a moment to fetch: the previous
        // one stays on the stage until it has loaded, instead of a black stage in between.
        for (const stale of canvas.querySelectorAll('.is-pending')) stale.remove();
        img.classList.add('is-pending');
        canvas.append(img);
        return;
      }
    }
    replaceChildren(canvas, img, overlay);
  }

  function renderPeople(): void {
    if (!alert) return;
    replaceChildren(
      people,
      ...alert.people.map((p, i) => {
        const chosen = p.id === selectedId;
        const b = h(
          'button',
          {
            type: 'button',
            class: `evidence-person${chosen ? ' selected' : ''}${p.falsePositive ? ' false-positive' : ''}`,
            'aria-pressed': chosen ? 'true' : 'false',
            'data-person-id': p.id,
            onclick: () => select(p.id),
          },
          h('span', { class: 'person-index' }, String(i + 1)),
          authImage(deps.api, p.snapshotUrl, `Person ${i + 1}`, 'snapshot snapshot-face person-shot'),
          h(
            'span',
            { class: 'person-facts' },
            h('strong', {}, PERSON_LABEL_TEXT[p.label]),
            ...personFacts(p).map((fact) => h('span', { class: 'muted' }, fact)),
            maskedLine(p),
            p.falsePositive ? h('span', { class: 'badge' }, `False positive: ${p.falsePositiveReason ?? ''}`) : '',
          ),
        );
        return h('li', {}, b);
      }),
    );
  }

  async function loadTrack(): Promise<void> {
    const p = selectedPerson();
    if (!alert || !p) {
      replaceChildren(track);
      return;
    }
    const key = `${alert.id}|${p.id}|${p.frames}`;
    if (key === trackKey) return;
    trackKey = key;
    try {
      const res = await deps.api.json<{ items: TrackItem[] }>('GET', `/api/v1/alerts/${encodeURIComponent(alert.id)}/people/${encodeURIComponent(p.id)}/track`);
      if (trackKey !== key) return; // another person was selected meanwhile
      replaceChildren(
        track,
        ...res.items.map((t) =>
          h('figure', { class: 'track-crop' }, authImage(deps.api, t.snapshotUrl, `Crop at ${formatClock(t.capturedAt)}`, 'snapshot track-shot'), h('figcaption', {}, formatClock(t.capturedAt))),
        ),
      );
    } catch {
      // A detail that cannot load its crops still shows the frame and the people.
      replaceChildren(track, h('p', { class: 'muted' }, 'Crops unavailable'));
      trackKey = '';
    }
  }

  function select(personId: string | null): void {
    selectedId = personId;
    el.dataset.selectedPerson = personId ?? '';
    renderPeople();
    showFrame();
    drawOverlay();
    applyZoom();
    void loadTrack();
    markBtn.disabled = !selectedPerson() || selectedPerson()!.falsePositive;
  }

  zoomIn.addEventListener('click', () => {
    zoom = Math.min(ZOOM_STEPS.length - 1, zoom + 1);
    applyZoom();
  });
  zoomOut.addEventListener('click', () => {
    zoom = Math.max(0, zoom - 1);
    applyZoom();
  });
  zoomReset.addEventListener('click', () => {
    zoom = 0;
    applyZoom();
  });
  stage.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      zoom = Math.max(0, Math.min(ZOOM_STEPS.length - 1, zoom + (e.deltaY < 0 ? 1 : -1)));
      applyZoom();
    },
    { passive: false },
  );
  markBtn.addEventListener('click', () => {
    const p = selectedPerson();
    if (!alert || !p) return;
    const why = reason.value.trim();
    if (!why) {
      reasonError?.remove();
      reasonError = toast('Give a reason to mark this person', 'error');
      reason.focus();
      return;
    }
    markBtn.disabled = true;
    deps.api
      .json<AlertEvent>('POST', `/api/v1/alerts/${encodeURIComponent(alert.id)}/people/${encodeURIComponent(p.id)}/false-positive`, { reason: why })
      .then(
        (updated) => {
          reason.value = '';
          // The reason was given: the earlier "give a reason" error no longer applies.
          reasonError?.remove();
          reasonError = null;
          toast('Marked as not a violation');
          update(updated);
          deps.onChange?.(updated);
        },
        (err: Error) => {
          toast(err.message, 'error');
          markBtn.disabled = false;
        },
      );
  });

  function update(next: AlertEvent): void {
    const changedAlert = alert?.id !== next.id;
    const nextPeopleKey = framePeopleKey(next);
    if (!changedAlert && nextPeopleKey !== peopleKey) {
      forgetFrames(next);
      shownKey = undefined;
    }
    peopleKey = nextPeopleKey;
    alert = next;
    if (changedAlert) {
      zoom = 0;
      shownKey = undefined;
      trackKey = '';
    }
    const keep = next.people.some((p) => p.id === selectedId) ? selectedId : (next.people.find((p) => !p.falsePositive) ?? next.people[0])?.id ?? null;
    select(keep);
  }

  return { el, update, selected: () => selectedId };
}

/**
 * Read-only evidence of an alert for a `.snapshots` box (the after-action
 * review): the viewer when the alert has people, else its face and frame.
 */
export function alertEvidence(api: Api, alert: AlertEvent): HTMLElement[] {
  if (alert.people.length === 0) return faceAndFrame(api, alert);
  const viewer = createEvidenceViewer({ api, canReview: false });
  viewer.update(alert);
  return [viewer.el];
}

/** An alert without people (older rows): its face snapshot and annotated frame, side by side in `.snapshots`. */
export function faceAndFrame(api: Api, alert: AlertEvent): HTMLElement[] {
  return [
    h('figure', {}, authImage(api, alert.snapshotUrl, `Face snapshot at ${alert.camera.name}`, 'snapshot snapshot-face'), h('figcaption', {}, 'Face')),
    h('figure', { class: 'wide' }, frameImage(api, alert.frameSnapshotUrl, `Annotated frame from ${alert.camera.name}`, 'snapshot snapshot-frame'), h('figcaption', {}, 'Annotated frame')),
  ];
}

/** Who an alert's frames show unblurred. When it changes, the same frame URLs serve new pictures (a person marked false positive is blurred now, a new one sharp). */
export function framePeopleKey(a: AlertEvent): string {
  return a.people.map((p) => `${p.id}:${p.falsePositive ? 'fp' : ''}`).join('|');
}
export function forgetFrames(a: AlertEvent): void {
  forgetImages([a.frameSnapshotUrl, ...a.people.map((p) => p.frameSnapshotUrl)]);
}

/** Width / height of the officer's view of a person on camera (face, shoulders, clothes). */
const CONTEXT_ASPECT = 3 / 4;

/** A frame of a person and their box in it. */
export interface PersonFrame {
  url: string;
  box: readonly [number, number, number, number];
}

/**
 * A person as the camera saw them, for the officer looking for them on the street: the part of a frame of theirs
 * around and below their face, where the clothes are (the frame as the alert shows it: only its people unblurred,
 * their faces boxed). None for an edge camera, whose frames never leave the site.
 */
function personOnCamera(api: Api, alert: AlertEvent, seen: PersonFrame | null, n: number): HTMLElement | null {
  if (!seen) return null;
  const img = authImage(api, seen.url, `Person ${n} on camera at ${alert.camera.name}: face and clothes`, 'person-on-camera');
  img.addEventListener('load', () => {
    const frame = img as HTMLImageElement;
    const [x, y, width, height] = seen.box;
    const r = personContext({ x, y, width, height }, { width: frame.naturalWidth, height: frame.naturalHeight }, CONTEXT_ASPECT);
    // Percentages of the view, whose shape is the region's: the frame scaled so the region fills it (through the CSSOM: the CSP refuses style attributes).
    frame.style.width = `${(frame.naturalWidth / r.width) * 100}%`;
    frame.style.left = `${(-r.x / r.width) * 100}%`;
    frame.style.top = `${(-r.y / r.height) * 100}%`;
    frame.classList.add('is-placed');
  });
  const view = h('div', { class: 'officer-context' }, img);
  view.style.aspectRatio = String(CONTEXT_ASPECT);
  return view;
}

/** How many people an officer's card shows before "Show all": a crowd's faces must not push the address and buttons off the phone. */
export const OFFICER_PEOPLE_SHOWN = 4;

/**
 * The officer's view of an incident's people: large best shots, each beside the person as the camera saw them (in
 * the frame `frameOf` gives; by default where they were last seen), and last-seen time with how long ago (the card
 * gives the address once). At most `max` of them; the list's name still counts them all.
 */
export function peopleStrip(
  api: Api,
  alert: AlertEvent,
  now = Date.now(),
  max = Infinity,
  frameOf: (p: AlertPersonEvent) => PersonFrame | null = (p) => (p.frameSnapshotUrl ? { url: p.frameSnapshotUrl, box: p.box } : null),
): HTMLElement {
  // Numbered as the dispatcher's viewer numbers them (people marked not a violation keep their numbers there), so
  // "look for number 3" on the radio means the same face on both screens.
  const people = alert.people.map((p, i) => ({ p, n: i + 1 })).filter(({ p }) => !p.falsePositive);
  if (people.length === 0) return authImage(api, alert.snapshotUrl, `Face snapshot at ${alert.camera.name}`, 'snapshot snapshot-face');
  return h(
    'ol',
    { class: 'officer-people', 'aria-label': `${people.length} ${people.length === 1 ? 'person' : 'people'} to find` },
    ...people.slice(0, max).map(({ p, n }) =>
      h(
        'li',
        { class: 'officer-person', 'data-person-id': p.id, value: n },
        authImage(api, p.snapshotUrl, `Person ${n} at ${alert.camera.name}`, 'snapshot snapshot-face officer-shot'),
        personOnCamera(api, alert, frameOf(p), n),
        h(
          'span',
          { class: 'person-facts' },
          h('strong', {}, `${n}. ${PERSON_LABEL_TEXT[p.label]}`),
          h('span', {}, `Last seen ${formatClock(p.lastSeenAt)}`, ' · ', h('span', { class: 'seen-ago', 'data-seen-at': p.lastSeenAt }, formatAgo(p.lastSeenAt, now))),
          maskedLine(p),
        ),
      ),
    ),
  );
}
