import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { isDark, nightForDate } from '../core/astro.js';
import { silentLogger } from '../core/log.js';
import { alertMessageSchema, idSchema, type Site } from '../protocol/index.js';
import { LiveState } from './live-state.js';
import { OfflineAlerts, offlineAlertId } from './offline-alerts.js';
import type { AlertView, LiveEvent } from './views.js';

const site: Site = { lat: 45.764, lon: 4.8357, timezone: 'Europe/Paris' };
const night = nightForDate(site, '2025-11-21');

function setup(start: number) {
  const clock = new ManualClock(start);
  const live = new LiveState();
  const saved = new Map<string, AlertView>();
  const published: Array<[string, string]> = [];
  const events: LiveEvent[] = [];
  const changed: string[] = [];
  const alerts = new OfflineAlerts({
    clock,
    logger: silentLogger(),
    live,
    periodS: 60,
    site: () => site,
    saveAlert: (a) => saved.set(a.id, a),
    publishAlert: async (id, p) => {
      published.push([id, p]);
    },
    emit: (e) => events.push(e),
    cabinetChanged: (id) => changed.push(id),
  });
  return { clock, live, saved, published, events, changed, alerts };
}

describe('OfflineAlerts', () => {
  it('opens one alert per cabinet (critical at night), bumps repeats, resolves and clears the retained topic', () => {
    const t = night.dusk + 3600_000;
    expect(isDark(site, t)).toBe(true);
    const { clock, saved, published, events, alerts } = setup(t);
    const a = alerts.open('C1', 'last will');
    expect(a).toMatchObject({ kind: 'cabinet_offline', severity: 'critical', state: 'open', count: 1, cabinetId: 'C1' });
    clock.advance(1000);
    const b = alerts.open('C1', 'last will');
    expect(b.id).toBe(a.id);
    expect(b.count).toBe(2);
    expect(saved.size).toBe(1);
    expect(alertMessageSchema.parse(JSON.parse(published[1]![1]))).toMatchObject({ id: a.id, count: 2 });
    clock.advance(1000);
    const r = alerts.resolve('C1');
    expect(r).toMatchObject({ state: 'resolved', resolvedAt: t + 2000 });
    expect(saved.get(a.id)?.state).toBe('resolved');
    expect(published.at(-1)).toEqual([a.id, '']);
    expect(events.filter((e) => e.type === 'alert').length).toBe(3);
    expect(alerts.resolve('C1')).toBeUndefined();
  });

  it('is major by day', () => {
    const t = night.dawn + 4 * 3600_000;
    expect(isDark(site, t)).toBe(false);
    const { alerts } = setup(t);
    expect(alerts.open('C1', 'x').severity).toBe('major');
  });

  it('marks an online cabinet offline after 3 periods of silence, using its own period', () => {
    const { clock, live, alerts, changed } = setup(night.dusk);
    alerts.start([]);
    live.markSeen('C1', clock.now());
    live.markSeen('C2', clock.now());
    live.applyTelemetry('C2', clock.now(), 300, [], () => false);
    clock.advance(180_000 + 30_000);
    expect(live.cabinet('C1')?.online).toBe(false);
    expect(alerts.openAlert('C1')).toBeDefined();
    expect(live.cabinet('C2')?.online).toBe(true);
    expect(changed).toEqual(['C1']);
    alerts.stop();
    live.markSeen('C1', clock.now());
    clock.advance(3600_000);
    expect(live.cabinet('C1')?.online).toBe(true);
  });

  it('restores open alerts saved before a restart', () => {
    const { alerts, saved } = setup(night.dusk);
    const before = setup(night.dusk).alerts.open('C9', 'x');
    alerts.start([before]);
    expect(alerts.open('C9', 'again').count).toBe(2);
    expect([...saved.keys()]).toEqual([before.id]);
    alerts.stop();
  });

  it('alert ids stay valid ids for the longest cabinet ids', () => {
    const id = offlineAlertId('c'.repeat(64), Date.UTC(2030, 0, 1));
    expect(idSchema.safeParse(id).success).toBe(true);
    expect(offlineAlertId('C1', 0)).not.toBe(offlineAlertId('C1', 1));
  });
});
