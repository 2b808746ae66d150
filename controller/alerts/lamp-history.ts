import type { LampSample } from '../stores.js';
import type { LampHistoryView } from '../views.js';

/** Longest window one history request may cover: a month. */
export const MAX_HISTORY_SPAN_MS = 31 * 86_400_000;
/** Points returned when the caller does not say: enough for a chart a screen wide. */
export const DEFAULT_HISTORY_POINTS = 2000;

/**
 * A lamp's history as the API returns it: raw readings when they fit in `maxPoints`, else the
 * mean level and power per time bucket (a week at one reading a minute is 10 080 readings).
 * A fault in a bucket is kept: the anomaly must stay visible in the summary.
 */
export function lampHistoryView(lampId: string, from: number, to: number, samples: readonly LampSample[], maxPoints: number): LampHistoryView {
  const sorted = [...samples].sort((a, b) => a.ts - b.ts);
  if (sorted.length <= maxPoints) {
    return { lampId, from, to, bucketMs: null, samples: sorted.map((s) => ({ ts: s.ts, level: s.level, powerW: s.powerW, fault: s.fault })) };
  }
  const bucketMs = Math.max(1, Math.ceil((to - from) / maxPoints));
  const out: LampHistoryView['samples'] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = from + Math.floor((sorted[i]!.ts - from) / bucketMs) * bucketMs;
    let n = 0;
    let level = 0;
    let power = 0;
    let fault: LampSample['fault'] = null;
    while (i < sorted.length && sorted[i]!.ts < start + bucketMs) {
      const s = sorted[i]!;
      level += s.level;
      power += s.powerW;
      fault ??= s.fault;
      n++;
      i++;
    }
    out.push({ ts: start + Math.floor(bucketMs / 2), level: round2(level / n), powerW: round2(power / n), fault });
  }
  return { lampId, from, to, bucketMs, samples: out };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
