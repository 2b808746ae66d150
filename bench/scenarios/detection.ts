import { runDetectionBench, type BenchOptions } from '../detection-quality.js';
import type { Figure, ScenarioResult } from '../lib/result.js';
import { round } from '../lib/stats.js';
import { timedScenario } from './extra-base.js';

/** Issue 4's detection quality: faults injected into a simulated month, recall and precision of the alerts. */
export const DEFAULT_DETECTION: BenchOptions = { days: 30, periodS: 60, seed: 7, faultsPerKind: 12 };

export function runDetection(o: BenchOptions, command: string): Promise<ScenarioResult> {
  return timedScenario('detection', command, async () => {
    const t0 = performance.now();
    const report = await runDetectionBench(o);
    const seconds = (performance.now() - t0) / 1000;
    console.log(report.replace(/^/gm, '    '));
    // Totals from the report's per-kind table: | kind | faults (observable) | detected | recall | tp / fp | …
    let observable = 0;
    let detected = 0;
    let tp = 0;
    let fp = 0;
    for (const line of report.split('\n')) {
      const m = /^\| [a-z_]+(?: \(not injected\))? \| (?:\d+ \((\d+)\)|—) \| (\d+|—) \| [^|]* \| (\d+) \/ (\d+) \|/.exec(line);
      if (!m) continue;
      observable += Number(m[1] ?? 0);
      detected += m[2] === '—' ? 0 : Number(m[2]);
      tp += Number(m[3]);
      fp += Number(m[4]);
    }
    const figures: Figure[] = [
      { label: `faults observable / detected (${o.days} days, seed ${o.seed})`, value: `${observable} / ${detected}`, unit: '' },
      { label: 'recall (all kinds)', value: observable ? round(detected / observable, 3) : null, unit: '' },
      { label: 'alerts true / false', value: `${tp} / ${fp}`, unit: '' },
      { label: 'precision (all kinds)', value: tp + fp ? round(tp / (tp + fp), 3) : null, unit: '' },
      { label: 'simulated month replayed in', value: round(seconds, 1), unit: 's' },
    ];
    return { figures, details: { options: o, report } };
  });
}
