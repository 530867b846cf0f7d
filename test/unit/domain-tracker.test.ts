import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_TRACKER_OPTIONS,
  centroidDistance,
  iou,
  matchDetections,
  referenceObservation,
  TrackerInputError,
  type Box,
  type Track,
} from '../../src/domain/tracker.ts';

const opts = { ...DEFAULT_TRACKER_OPTIONS, cooldownMs: 60_000 };
const T0 = Date.parse('2026-01-01T12:00:00Z');

describe('iou / centroidDistance', () => {
  it('is 1 for identical boxes and 0 for disjoint ones', () => {
    assert.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
    assert.equal(iou([0, 0, 10, 10], [20, 20, 10, 10]), 0);
  });
  it('computes partial overlap', () => {
    // 5x10 overlap of two 10x10 boxes: 50 / 150
    assert.equal(iou([0, 0, 10, 10], [5, 0, 10, 10]), 50 / 150);
  });
  it('measures centroid distance in face sizes', () => {
    assert.equal(centroidDistance([0, 0, 10, 10], [10, 0, 10, 10]), 1);
    assert.equal(centroidDistance([0, 0, 20, 20], [0, 0, 20, 20]), 0);
  });
});

describe('referenceObservation', () => {
  const track: Track = {
    id: 'a',
    observations: [
      { box: [0, 0, 10, 10], at: T0 },
      { box: [5, 0, 10, 10], at: T0 + 10_000 },
    ],
  };
  it('picks the observation nearest in time, also for an earlier frame', () => {
    assert.equal(referenceObservation(track, T0 + 9_000, 60_000)?.at, T0 + 10_000);
    assert.equal(referenceObservation(track, T0 - 5_000, 60_000)?.at, T0);
  });
  it('ends the track once unseen for longer than the cooldown', () => {
    assert.equal(referenceObservation(track, T0 + 10_000 + 60_001, 60_000), null);
    assert.ok(referenceObservation(track, T0 + 10_000 + 60_000, 60_000));
  });
});

describe('matchDetections', () => {
  const person: Box = [100, 100, 40, 40];
  it('continues a track for a jittering box', () => {
    const tracks: Track[] = [{ id: 't1', observations: [{ box: person, at: T0 }] }];
    const r = matchDetections(tracks, [{ index: 0, box: [104, 97, 42, 41] }], T0 + 500, opts);
    assert.deepEqual(r, { matches: [{ detectionIndex: 0, trackId: 't1' }], unmatched: [] });
  });

  it('starts a new track for a face elsewhere in the frame', () => {
    const tracks: Track[] = [{ id: 't1', observations: [{ box: person, at: T0 }] }];
    const r = matchDetections(tracks, [{ index: 0, box: [400, 100, 40, 40] }], T0 + 500, opts);
    assert.deepEqual(r, { matches: [], unmatched: [0] });
  });

  it('does not merge a much smaller face at the same spot (different person in depth)', () => {
    const tracks: Track[] = [{ id: 't1', observations: [{ box: [100, 100, 80, 80], at: T0 }] }];
    const r = matchDetections(tracks, [{ index: 0, box: [150, 150, 20, 20] }], T0 + 500, opts);
    assert.deepEqual(r.unmatched, [0]);
  });

  it('keeps two people side by side apart (one-to-one)', () => {
    const tracks: Track[] = [
      { id: 'left', observations: [{ box: [100, 100, 40, 40], at: T0 }] },
      { id: 'right', observations: [{ box: [150, 100, 40, 40], at: T0 }] },
    ];
    const r = matchDetections(
      tracks,
      [
        { index: 0, box: [152, 101, 40, 40] },
        { index: 1, box: [99, 102, 40, 40] },
      ],
      T0 + 1000,
      opts,
    );
    assert.deepEqual(r.matches, [
      { detectionIndex: 0, trackId: 'right' },
      { detectionIndex: 1, trackId: 'left' },
    ]);
  });

  it('assigns the extra face of a frame to a new track', () => {
    const tracks: Track[] = [{ id: 't1', observations: [{ box: person, at: T0 }] }];
    const r = matchDetections(
      tracks,
      [
        { index: 0, box: [101, 100, 40, 40] },
        { index: 1, box: [103, 101, 40, 40] },
      ],
      T0 + 1000,
      opts,
    );
    assert.equal(r.matches.length, 1);
    assert.equal(r.unmatched.length, 1);
  });

  it('tolerates missed detections within the cooldown and ends the track after it', () => {
    const tracks: Track[] = [{ id: 't1', observations: [{ box: person, at: T0 }] }];
    assert.equal(matchDetections(tracks, [{ index: 0, box: person }], T0 + 45_000, opts).matches.length, 1);
    assert.deepEqual(matchDetections(tracks, [{ index: 0, box: person }], T0 + 61_000, opts).unmatched, [0]);
  });

  it('matches a late frame (out of order) through the observation nearest in time', () => {
    // The person drifted right over 20 s; a late frame from t=1 s still sits at the start.
    const tracks: Track[] = [
      {
        id: 't1',
        observations: [
          { box: [100, 100, 40, 40], at: T0 },
          { box: [180, 100, 40, 40], at: T0 + 20_000 },
        ],
      },
    ];
    const r = matchDetections(tracks, [{ index: 0, box: [102, 100, 40, 40] }], T0 + 1_000, opts);
    assert.deepEqual(r.matches, [{ detectionIndex: 0, trackId: 't1' }]);
  });

  it('gives the same answer whatever the order of tracks', () => {
    const a: Track = { id: 'a', observations: [{ box: [100, 100, 40, 40], at: T0 }] };
    const b: Track = { id: 'b', observations: [{ box: [100, 100, 40, 40], at: T0 }] };
    const det = [{ index: 0, box: [100, 100, 40, 40] as Box }];
    assert.deepEqual(matchDetections([a, b], det, T0, opts), matchDetections([b, a], det, T0, opts));
  });

  it('rejects bad boxes and duplicate indexes with a clear error', () => {
    assert.throws(() => matchDetections([], [{ index: 0, box: [0, 0, 0, 10] }], T0, opts), TrackerInputError);
    assert.throws(() => matchDetections([], [{ index: 0, box: [0, 0, Number.NaN, 10] }], T0, opts), /finite/);
    assert.throws(
      () =>
        matchDetections(
          [],
          [
            { index: 1, box: person },
            { index: 1, box: person },
          ],
          T0,
          opts,
        ),
      /duplicate detection index 1/,
    );
    assert.throws(() => matchDetections([], [], Number.NaN, opts), TrackerInputError);
  });
});
