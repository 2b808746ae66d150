// Types for the TypeScript tests that import the browser module.
export interface Saving {
  kWh: number | null;
  pct: number | null;
  eur: number | null;
  tCo2e: number | null;
}
export interface Figures {
  energyKWh: number | null;
  costEur: number | null;
  fullPowerKWh: number;
  beforeRenovationKWh: number;
  savedVsFullPower: Saving;
  savedVsBeforeRenovation: Saving;
  gapKWh: number;
  burningHours: number;
  averageLevelPct: number | null;
  completeness: number | null;
}
export declare function fmtKwh(v: number | null): string;
export declare function fmtPct(v: number | null): string;
export declare function fmtEur(v: number | null): string;
export declare function fmtTco2e(v: number | null): string;
export declare function fmtCompleteness(v: number | null): string;
export declare function fmtHours(v: number): string;
export declare function fmtDate(date: string): string;
export declare function fmtPeriod(from: string, to: string): string;
export declare function headlineCards(f: Figures): Array<{ field: string; label: string; value: string; detail: string }>;
export declare function chartGeometry(
  nights: Array<{ date: string; energyKWh: number | null; fullPowerKWh: number; beforeRenovationKWh: number }>,
  width: number,
  height: number,
): {
  bars: Array<{ x: number; y: number; width: number; height: number; date: string }>;
  full: string;
  before: string;
  ticks: Array<{ y: number; label: string }>;
  labels: Array<{ x: number; text: string }>;
  plot: { left: number; right: number; bottom: number };
};
