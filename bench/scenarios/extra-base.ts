import os from 'node:os';
import { loadNow, type Figure, type ScenarioResult } from '../lib/result.js';

/** Times `fn` and wraps its figures as one scenario's result, the machine's load around it. */
export async function timedScenario(
  scenario: string,
  command: string,
  fn: () => Promise<{ figures: Figure[]; details: Record<string, unknown> }>,
): Promise<ScenarioResult> {
  const startedAt = new Date();
  const loadavgBefore = loadNow();
  const { figures, details } = await fn();
  return {
    scenario,
    command,
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    load: { cores: os.cpus().length, loadavgBefore, loadavgAfter: loadNow() },
    figures,
    details,
  };
}
