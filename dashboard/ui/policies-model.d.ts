// Types for the TypeScript tests that import the browser module.
export declare const TIME_EXPR_PATTERN: RegExp;
export declare const ZONE_CATEGORIES: ReadonlyArray<readonly [string, string]>;
export declare const PRESENCE_KINDS: ReadonlyArray<readonly [string, string]>;
export declare const OVERRIDE_TARGETS: ReadonlyArray<readonly [string, string]>;
export declare const WEEKDAYS: string[];
export declare function isTimeExpr(s: string): boolean;
export declare function describeTimeExpr(expr: string): string;
export declare function clonePlan<T>(plan: T): T;
export declare function samePlan(a: unknown, b: unknown): boolean;
export declare function draftProblems(plan: unknown): Array<{ field: string; message: string }>;
export declare function parseInteger(text: string): number | null;
export declare function parseLevel(text: string): number | null;
export type WhenKind = 'weekdays' | 'dates' | 'range' | 'holidays';
export declare function whenKind(when: object): WhenKind;
export declare function defaultWhen(kind: WhenKind): object;
export declare function parseDateList(text: string): string[];
export declare function describeWhen(when: object): string;
export declare function localDateOf(ts: number, timeZone: string): string;
export declare function formatHm(ts: number, timeZone: string): string;
export declare function toLocalInput(ts: number, timeZone: string): string;
export declare function fromLocalInput(text: string, timeZone: string): number | null;
export interface CurvePoint {
  t: number;
  level: number;
}
export declare function curveSegments(points: readonly CurvePoint[], end: number): Array<{ from: number; to: number; level: number }>;
export declare function describeCurve(points: readonly CurvePoint[], end: number, timeZone: string): string;
export declare function curveGeometry(
  curve: { windowStart: number; windowEnd: number; dusk: number; dawn: number; points: readonly CurvePoint[] },
  timeZone: string,
  box: { width: number; height: number; left: number; right: number; top: number; bottom: number },
): {
  path: string;
  duskX: number;
  dawnX: number;
  ticks: Array<{ x: number; label: string }>;
  levels: Array<{ y: number; label: string }>;
  plot: { x: number; y: number; width: number; height: number };
};
interface RolloutLike {
  plan: { id: string; version: number } | null;
  cabinets: Array<{ cabinetId: string; online: boolean; published: unknown; acked: unknown; upToDate: boolean }>;
}
export declare function applyCabinetEvent<R extends RolloutLike>(
  rollout: R,
  cabinet: { id: string; online: boolean; policyPublished: unknown; policyAcked: { id: string; version: number } | null },
): R & { total: number; acked: number; complete: boolean };
export declare function describeTarget(target: { type: string; id?: string }): string;
export interface OverrideForm {
  targetType: string;
  targetId: string;
  level: string;
  endMode: 'duration' | 'until';
  durationMin: string;
  until: string;
  reason: string;
}
export declare function buildOverrideRequest(
  form: OverrideForm,
  timeZone: string,
): { ok: true; request: any } | { ok: false; field: string; message: string };
export declare function describeDelivery(record: { cabinets: Array<{ cabinetId: string; state: string; error: string | null }> }): string;
export declare function sortFindings<F extends { severity: 'error' | 'warning'; zone: string; rule: string }>(findings: readonly F[]): F[];
interface NightResult {
  energyKWh: number;
  fullPowerKWh: number;
  detectionsBoosted: number;
  boostedShare: number | null;
}
interface WhatIfRow {
  date: string;
  detections: number;
  draftKWh: number;
  currentKWh: number | null;
  deltaKWh: number | null;
  deltaRatio: number | null;
  savedVsFull: number | null;
  draftShare: number | null;
  currentShare: number | null;
}
export declare function whatIfRows(result: {
  nights: Array<{ date: string; detections: number; draft: NightResult; current: NightResult | null }>;
  totals: { draft: NightResult; current: NightResult | null };
}): { nights: WhatIfRow[]; total: WhatIfRow };
