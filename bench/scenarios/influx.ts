import { influxdAvailable } from '../../tests/telemetry-contract/influxd-fixture.js';
import type { ScenarioResult } from '../lib/result.js';
import { timedScenario } from './extra-base.js';

/** Issue 6's figures: each telemetry store's write rate, InfluxDB's own ceiling, outage catch-up. */
export function runInflux(command: string): Promise<ScenarioResult> {
  return timedScenario('influx', command, async () => {
    if (!influxdAvailable()) {
      console.log('    skipped: no influxd (Debian package "influxdb", or LUCIOLE_INFLUXD_BIN)');
      return { figures: [{ label: 'skipped: no influxd', value: null, unit: '' }], details: { skipped: 'no influxd' } };
    }
    // Loaded here, not at start: its module reads nothing, but keeps InfluxDB's client out of other scenarios.
    const { runInfluxBench } = await import('../influx.js');
    const r = await runInfluxBench((line) => console.log(`    ${line}`));
    return {
      figures: [
        { label: 'sqlite store, 200-message writes', value: Math.round(r.sqliteSamplesPerS), unit: 'lamp-samples/s' },
        { label: 'influxdb1 raw ceiling (line protocol)', value: Math.round(r.influxCeilingSamplesPerS), unit: 'lamp-samples/s' },
        { label: 'influxdb1 store', value: Math.round(r.influxStoreSamplesPerS), unit: 'lamp-samples/s' },
        ...r.outages.map((o) => ({ label: `outage ${o.label}: written after InfluxDB back`, value: Math.round(o.catchUpMs), unit: 'ms' })),
      ],
      details: { ...r },
    };
  });
}
