import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frNumber } from './french.js';

describe('frNumber', () => {
  const intl = (n: number, digits: number): string =>
    new Intl.NumberFormat('fr-FR', { minimumFractionDigits: 0, maximumFractionDigits: digits }).format(n);

  it('writes what Intl writes for French, fast path or not', () => {
    fc.assert(
      fc.property(fc.double({ min: -5000, max: 5000, noNaN: true }), fc.integer({ min: 0, max: 3 }), (n, digits) => {
        expect(frNumber(n, digits)).toBe(intl(n, digits));
      }),
      { numRuns: 20_000 },
    );
  });

  it('rounds ties and signs as Intl does', () => {
    for (const [n, digits] of [[0.5, 0], [2.5, 0], [-2.5, 0], [1.25, 1], [-0.04, 1], [-0, 1], [999.96, 1], [1234.5, 1], [0.1 + 0.2, 2]] as const) {
      expect(frNumber(n, digits)).toBe(intl(n, digits));
    }
    expect(frNumber(12.5)).toBe('12,5');
    expect(frNumber(-0.04, 1)).toBe('-0');
    expect(frNumber(1234.5)).toBe('1\u202f234,5');
  });
});
