/** Service-level arithmetic (docs/rules.md §10): buckets, nearest-rank percentiles, the report range. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bucketLowerBound, bucketOf, percentileOf, reportRange, REPORT_MAX_DAYS } from '../../domain/service-levels';

describe('response-time buckets', () => {
  it('are whole seconds below 10 min, 10 s below 1 h, minutes below a day; a bucket starts at or below its value', () => {
    expect([0, 29.99, 30, 599.9].map(bucketOf)).toEqual([0, 29, 30, 599]);
    expect(bucketLowerBound(bucketOf(615))).toBe(610);
    expect(bucketLowerBound(bucketOf(3_725))).toBe(3_720);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 90_000, noNaN: true }), (s) => {
        const b = bucketOf(s);
        expect(bucketLowerBound(b)).toBeLessThanOrEqual(s);
        expect(bucketOf(bucketLowerBound(b))).toBe(b);
      }),
    );
  });
});

describe('percentiles', () => {
  it('are nearest-rank over the bucket counts', () => {
    const counts = new Map([
      [bucketOf(15), 1],
      [bucketOf(20), 1],
      [bucketOf(30), 1],
      [bucketOf(50), 1],
    ]);
    expect([percentileOf(counts, 0.5), percentileOf(counts, 0.9)]).toEqual([20, 50]);
    expect(percentileOf(new Map(), 0.5)).toBeNull();
  });
});

describe('report range', () => {
  it('defaults to the last 7 days, refuses a reversed or too long range', () => {
    expect(reportRange({}, '2026-12-02')).toEqual({ fromDay: '2026-11-26', toDay: '2026-12-02' });
    expect(reportRange({ from: '2026-11-01' }, '2026-12-02')).toEqual({ fromDay: '2026-11-01', toDay: '2026-11-07' });
    expect(reportRange({ from: '2026-12-02', to: '2026-12-01' }, '2026-12-02')).toHaveProperty('refusal');
    // A range that would end past the calendar Postgres stores is refused, not sent to it.
    expect(reportRange({ from: '9999-12-30' }, '2026-12-02')).toEqual({ refusal: 'the range must lie within years 1–9999' });
    expect(reportRange({ from: '0000-01-01', to: '0000-01-03' }, '2026-12-02')).toEqual({
      refusal: 'the range must lie within years 1–9999',
    });
    expect(reportRange({ from: '2026-01-01', to: '2026-12-01' }, '2026-12-02')).toEqual({
      refusal: `the range covers 335 days; at most ${REPORT_MAX_DAYS}`,
    });
  });
});
