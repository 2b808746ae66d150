import { reportFlagsSchema, runReportBench } from '../report.js';
import type { ScenarioResult } from '../lib/result.js';
import { round } from '../lib/stats.js';
import { timedScenario } from './extra-base.js';

/** Issue 5's report time: a monthly energy report for 100,000 lamps from a year of hourly roll-ups. */
export function runReport(command: string): Promise<ScenarioResult> {
  return timedScenario('report', command, async () => {
    const r = await runReportBench(reportFlagsSchema.parse({}));
    console.log(`    ${r.summary}; runs ${r.runsMs.map((t) => Math.round(t)).join(', ')} ms`);
    return {
      figures: [
        { label: `monthly report, ${r.lamps.toLocaleString('en')} lamps, median of ${r.runsMs.length}`, value: Math.round(r.medianMs), unit: 'ms' },
        { label: 'monthly report, first run', value: Math.round(r.runsMs[0]!), unit: 'ms' },
        { label: `year of roll-ups written (${r.rows.toLocaleString('en')} cabinet-hours)`, value: round(r.fillS, 1), unit: 's' },
        { label: 'database size', value: Math.round(r.sizeMiB), unit: 'MiB' },
      ],
      details: { ...r },
    };
  });
}
