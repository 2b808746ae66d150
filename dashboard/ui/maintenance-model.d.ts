// Types for the TypeScript tests that import the browser module.
interface BoardAlert {
  id: string;
  kind: string;
  severity: string;
  state: string;
  lampId: string | null;
  cabinetId: string;
  openedAt: number;
}
export declare const KIND_LABELS: Readonly<Record<string, string>>;
export declare const SEVERITIES: readonly ['critical', 'major', 'minor'];
export declare const SEVERITY_LABELS: Readonly<Record<string, string>>;
export declare const SEVERITY_LABEL: Readonly<Record<string, string>>;
export declare const STATE_LABELS: Readonly<Record<string, string>>;
export declare const ACTION_LABELS: Readonly<Record<string, string>>;
export declare const AGE_FILTERS: ReadonlyArray<readonly [string, string, (ageMs: number) => boolean]>;
export declare function kindLabel(kind: string): string;
export declare function zoneIndex(
  lamps: ReadonlyArray<{ id: string; cabinetId: string; zone: string }>,
): (alert: { lampId: string | null; cabinetId: string }) => Set<string>;
export declare function boardAlerts<A extends BoardAlert>(
  alerts: Iterable<A>,
  filters: { zone?: string; kind?: string; age?: string; state?: string },
  now: number,
  zonesOf: (alert: A) => Set<string>,
): A[];
export declare function groupBySeverity<A extends { severity: string }>(alerts: A[]): Array<{ severity: string; label: string; alerts: A[] }>;
export declare function formatAge(ms: number): string;
export declare function alertPosition(
  alert: { lampId: string | null; cabinetId: string },
  lampsById: ReadonlyMap<string, { lat: number; lon: number }>,
  cabinetsById: ReadonlyMap<string, { lat: number | null; lon: number | null }>,
): { lat: number; lon: number } | null;
export declare function chartModel(
  samples: ReadonlyArray<{ ts: number; level: number; powerW: number; fault: string | null }>,
  box: { from: number; to: number; width: number; height: number; anomaly?: { from: number; to: number } | null },
): {
  powerMax: number;
  levelPath: string;
  powerPath: string;
  band: { x: number; width: number } | null;
  faults: Array<{ x: number; y: number; fault: string }>;
  points: number;
};
