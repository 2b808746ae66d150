import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { localTime, nightForDate } from '../core/astro.js';
import { overrideRequestSchema } from '../controller/overrides.js';
import { levelCurve } from '../controller/plan-curve.js';
import { townPlanSchema, type TownPlan } from '../controller/plan.js';
import { rolloutSchema, type Rollout, type WhatIfResult } from '../controller/policy-views.js';
import { TIME_EXPR_PATTERN as PROTOCOL_TIME_EXPR } from '../protocol/index.js';
import { demoPlan, generateTown } from '../sim/town.js';
import {
  applyCabinetEvent,
  buildOverrideRequest,
  clonePlan,
  curveGeometry,
  curveSegments,
  describeCurve,
  describeTimeExpr,
  describeWhen,
  draftProblems,
  formatHm,
  fromLocalInput,
  isTimeExpr,
  localDateOf,
  samePlan,
  sortFindings,
  TIME_EXPR_PATTERN,
  toLocalInput,
  whatIfRows,
  type OverrideForm,
} from './ui/policies-model.js';

/** The policy editor's pure module (ui/policies-model.js), checked against the server's own code. */

const site = generateTown().site;
const TZ = site.timezone;

/** A zod issue path in the notation of the compliance findings: `profiles.p.schedule[1].to`. */
const bracketPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');

describe('draft checks (policies-model.js)', () => {
  it('knows the time expressions exactly as the protocol does', () => {
    expect(TIME_EXPR_PATTERN.source).toBe(PROTOCOL_TIME_EXPR.source);
    const expr = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 70 })).map(([hh, mm]) => `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`),
      fc.tuple(fc.constantFrom('dusk', 'dawn', 'noon'), fc.constantFrom('', '+', '-', '±'), fc.nat(2000)).map(([b, s, n]) => (s === '' ? b : `${b}${s}${n}`)),
    );
    fc.assert(fc.property(expr, (s) => isTimeExpr(s) === PROTOCOL_TIME_EXPR.test(s)));
  });

  it('finds a problem exactly where the plan schema does, and names the same field', () => {
    const value = fc.oneof(fc.integer({ min: -5, max: 130 }), fc.constant(12.5), fc.constant(100.5), fc.constant('40'), fc.constant(Number.NaN));
    const time = fc.constantFrom('dusk', 'dawn+15', '22:30', '05:30', '24:00', 'dusk+', 'minuit', '7:00');
    fc.assert(
      fc.property(fc.nat(2), time, time, value, value, fc.integer({ min: 0, max: 25 }), (slot, from, to, level, presenceLevel, hops) => {
        const plan = clonePlan(demoPlan()) as any;
        const s = plan.profiles.centre.schedule[slot];
        Object.assign(s, { from, to, level });
        plan.profiles.centre.presence.level = presenceLevel;
        plan.profiles.activite.presence.propagateByKind = { vehicle: hops };
        const problems = draftProblems(plan).map((p) => p.field).sort();
        const parsed = townPlanSchema.safeParse(plan);
        const issues = parsed.success ? [] : [...new Set(parsed.error.issues.map((i) => bracketPath(i.path)))].sort();
        expect(problems).toEqual(issues);
      }),
      { numRuns: 300 },
    );
  });

  it('flags profiles the zones, the default and the calendar name but the plan lacks', () => {
    const plan = clonePlan(demoPlan()) as TownPlan;
    expect(draftProblems(plan)).toEqual([]);
    plan.zones.parc = 'jardin';
    plan.defaultProfile = 'rien';
    plan.calendar = [{ when: { holidays: 'FR' }, profiles: { centre: 'fete' } }];
    expect(draftProblems(plan).map((p) => p.field)).toEqual(['defaultProfile', 'zones.parc', 'calendar[0].profiles.centre']);
    expect(townPlanSchema.safeParse(plan).success).toBe(false);
  });

  it('compares plans by content, whatever the order of keys', () => {
    const a = demoPlan();
    const b = JSON.parse(JSON.stringify({ zones: a.zones, profiles: a.profiles, id: a.id, defaultProfile: a.defaultProfile, failsafeLevel: a.failsafeLevel }));
    expect(samePlan(a, b)).toBe(true);
    b.profiles.parc.schedule[0].level = 39;
    expect(samePlan(a, b)).toBe(false);
  });

  it('says time expressions and calendar conditions in French', () => {
    expect(describeTimeExpr('dusk+15')).toBe('coucher du soleil + 15 min');
    expect(describeTimeExpr('dawn-10')).toBe('lever du soleil − 10 min');
    expect(describeTimeExpr('22:30')).toBe('22:30');
    expect(describeWhen({ weekdays: [5, 6] })).toBe('vendredi, samedi');
    expect(describeWhen({ dates: ['--12-08', '2026-07-14', '--05-01'] })).toBe('chaque 8 décembre, 14 juillet 2026, chaque 1er mai');
    expect(describeWhen({ from: '--12-15', to: '--01-05' })).toBe('du 15 décembre au 5 janvier, chaque année');
    expect(describeWhen({ from: '2026-03-01', to: '2026-03-05' })).toBe('du 1er mars 2026 au 5 mars 2026');
    expect(describeWhen({ holidays: 'FR-57' })).toBe('jours fériés (FR-57)');
  });
});

describe('the town time zone in the browser (policies-model.js)', () => {
  it('reads and writes datetime-local values at the town, as luxon does', () => {
    const instant = fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }).map((t) => t - (t % 60_000));
    fc.assert(
      fc.property(instant, fc.constantFrom('Europe/Paris', 'America/Cayenne', 'Indian/Reunion', 'Pacific/Noumea'), (t, tz) => {
        const text = toLocalInput(t, tz);
        expect(text).toBe(DateTime.fromMillis(t, { zone: tz }).toFormat("yyyy-MM-dd'T'HH:mm"));
        expect(localDateOf(t, tz)).toBe(text.slice(0, 10));
        expect(formatHm(t, tz)).toBe(text.slice(11));
        // The first instant with that wall-clock time, as the gateway reads it (core/astro.ts localTime):
        // t itself, or the earlier of a repeated hour.
        const back = fromLocalInput(text, tz)!;
        expect(back === t || (back === t - 3_600_000 && toLocalInput(back, tz) === text)).toBe(true);
        expect(back).toBe(localTime(text.slice(0, 10), Number(text.slice(11, 13)), Number(text.slice(14)), tz));
      }),
      { numRuns: 500 },
    );
  });

  it('reads a time skipped in spring one hour later, and a repeated one as its first occurrence', () => {
    expect(fromLocalInput('2026-03-29T02:30', 'Europe/Paris')).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(fromLocalInput('2026-10-25T02:30', 'Europe/Paris')).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(fromLocalInput('2026-02-30T10:00', 'Europe/Paris')).toBeNull();
    expect(fromLocalInput('demain', 'Europe/Paris')).toBeNull();
  });
});

describe('the level curve (policies-model.js)', () => {
  const plan = demoPlan();
  for (const date of ['2026-01-15', '2026-03-28', '2026-06-21', '2026-10-24']) {
    it(`draws the server's curve of ${date}: steps at the resolved slots, dusk and dawn in place`, () => {
      const curve = levelCurve({ plan, profile: 'centre', date, site });
      const segments = curveSegments(curve.points, curve.windowEnd);
      // Every point is in the segment that covers it, with its level; segments tile the window.
      for (const p of curve.points.filter((q) => q.t < curve.windowEnd)) {
        const s = segments.find((g) => g.from <= p.t && p.t < g.to)!;
        expect(s.level).toBe(p.level);
      }
      expect(segments[0]!.from).toBe(curve.windowStart);
      expect(segments.at(-1)!.to).toBe(curve.windowEnd);
      for (let i = 1; i < segments.length; i++) expect(segments[i]!.from).toBe(segments[i - 1]!.to);

      // The evening slot (dusk to 23:00 at 70 %) is told with its local times, to the 5-minute step.
      const evening = curve.slots[0]!;
      const text = describeCurve(curve.points, curve.windowEnd, TZ);
      const stepUp = (t: number) => Math.ceil((t - curve.windowStart) / 300_000) * 300_000 + curve.windowStart;
      expect(text).toContain(`${formatHm(stepUp(evening.from), TZ)}–${formatHm(stepUp(evening.to), TZ)} : 70 %`);
      expect(text).toContain(': 25 %');

      const box = { width: 720, height: 260, left: 46, right: 12, top: 22, bottom: 30 };
      const g = curveGeometry(curve, TZ, box);
      const xOf = (t: number) => box.left + ((t - curve.windowStart) / (curve.windowEnd - curve.windowStart)) * (720 - 46 - 12);
      expect(g.duskX).toBeCloseTo(xOf(nightForDate(site, date).dusk), 0);
      expect(g.dawnX).toBeCloseTo(xOf(curve.dawn), 0);
      expect(g.duskX).toBeLessThan(g.dawnX);
      // One move, then a horizontal run per segment.
      expect(g.path.match(/M/g)).toHaveLength(1);
      expect(g.path.match(/H/g)).toHaveLength(segments.length);
      const hours = (curve.windowEnd - curve.windowStart) / 3_600_000;
      expect(g.ticks.length).toBeGreaterThanOrEqual(Math.floor(hours / 2) - 1);
      expect(g.ticks.every((t) => /^(0[02468]|1[02468]|2[02]) h$/.test(t.label))).toBe(true);
      expect(g.ticks.find((t) => t.label === '00 h')!.x).toBeCloseTo(xOf(localTime(date, 24, 0, TZ)), 0);
    });
  }

  it('says a dark night in words', () => {
    expect(describeCurve([{ t: 0, level: 0 }, { t: 300_000, level: 0 }], 600_000, TZ)).toBe('Éteint toute la nuit');
  });
});

describe('rollout progress from live cabinet events (policies-model.js)', () => {
  const plan = { id: 'plan-communal', version: 4 };
  const rollout: Rollout = rolloutSchema.parse({
    plan,
    cabinets: ['ARM-01', 'ARM-02', 'ARM-03'].map((id) => ({ cabinetId: id, online: true, published: plan, acked: { id: plan.id, version: 3 }, upToDate: false })),
    total: 3,
    acked: 0,
    complete: false,
  });
  const view = (id: string, version: number | null, online = true) => ({
    id,
    online,
    policyPublished: plan,
    policyAcked: version === null ? null : { id: plan.id, version },
  });

  it('counts a cabinet once it acks the version in force, and completes with the last', () => {
    let r = applyCabinetEvent(rollout, view('ARM-02', 4));
    expect(rolloutSchema.parse(r)).toMatchObject({ acked: 1, complete: false });
    expect(r.cabinets.find((c) => c.cabinetId === 'ARM-02')!.upToDate).toBe(true);
    r = applyCabinetEvent(r, view('ARM-01', 4));
    r = applyCabinetEvent(r, view('ARM-03', 3, false));
    expect(r).toMatchObject({ acked: 2, complete: false });
    expect(r.cabinets.find((c) => c.cabinetId === 'ARM-03')!.online).toBe(false);
    r = applyCabinetEvent(r, view('ARM-03', 4));
    expect(r).toMatchObject({ acked: 3, total: 3, complete: true });
  });

  it('ignores cabinets outside the rollout and an ack of another plan', () => {
    expect(applyCabinetEvent(rollout, view('ARM-99', 4)).cabinets).toEqual(rollout.cabinets);
    const other = applyCabinetEvent(rollout, { ...view('ARM-01', 4), policyAcked: { id: 'autre', version: 4 } });
    expect(other.acked).toBe(0);
  });
});

describe('the override form (policies-model.js)', () => {
  const base: OverrideForm = { targetType: 'zone', targetId: 'centre', level: '100', endMode: 'duration', durationMin: '90', until: '', reason: ' marché de nuit ' };

  it('builds requests the API accepts', () => {
    const d = buildOverrideRequest(base, TZ);
    expect(d).toEqual({ ok: true, request: { target: { type: 'zone', id: 'centre' }, level: 100, durationS: 5400, reason: 'marché de nuit' } });
    const town = buildOverrideRequest({ ...base, targetType: 'town', targetId: 'ignored', endMode: 'until', until: '2026-07-14T23:45' }, TZ);
    expect(town).toEqual({ ok: true, request: { target: { type: 'town' }, level: 100, until: Date.UTC(2026, 6, 14, 21, 45), reason: 'marché de nuit' } });
    for (const r of [d, town]) expect(r.ok && overrideRequestSchema.safeParse(r.request).success).toBe(true);
  });

  it('names the field of the first problem', () => {
    const field = (f: Partial<OverrideForm>) => {
      const r = buildOverrideRequest({ ...base, ...f }, TZ);
      return r.ok ? null : r.field;
    };
    expect(field({ targetType: 'street' })).toBe('target.type');
    expect(field({ targetId: 'rue de la paix' })).toBe('target.id');
    expect(field({ level: '101' })).toBe('level');
    expect(field({ level: '-1' })).toBe('level');
    expect(field({ level: 'fort' })).toBe('level');
    expect(field({ reason: '  ' })).toBe('reason');
    expect(field({ durationMin: '0' })).toBe('durationS');
    expect(field({ durationMin: String(7 * 24 * 60 + 1) })).toBe('durationS');
    expect(field({ endMode: 'until', until: '' })).toBe('until');
  });
});

describe('compliance and what-if tables (policies-model.js)', () => {
  it('lists errors before warnings, then by zone and rule', () => {
    const f = (severity: 'error' | 'warning', zone: string, rule: string) => ({ severity, zone, rule });
    const sorted = sortFindings([f('warning', 'a', 'x'), f('error', 'b', 'y'), f('error', 'a', 'z'), f('error', 'a', 'b')]);
    expect(sorted.map((x) => `${x.severity}:${x.zone}:${x.rule}`)).toEqual(['error:a:b', 'error:a:z', 'error:b:y', 'warning:a:x']);
  });

  it('gives per night and in total the change in energy against the plan in force', () => {
    const night = (energyKWh: number, boostedShare: number | null) => ({ energyKWh, fullPowerKWh: 100, detectionsBoosted: 0, boostedShare });
    const result: Pick<WhatIfResult, 'nights' | 'totals'> = {
      nights: [
        { date: '2026-11-18', dusk: 0, dawn: 1, detections: 10, draft: night(30, 1), current: night(40, 0.5) },
        { date: '2026-11-19', dusk: 0, dawn: 1, detections: 0, draft: night(20, null), current: night(40, null) },
      ],
      totals: { draft: { ...night(50, 1), fullPowerKWh: 200 }, current: { ...night(80, 0.5), fullPowerKWh: 200 } },
    };
    const { nights, total } = whatIfRows(result);
    expect(nights.map((n) => [n.date, n.deltaKWh, n.deltaRatio, n.draftShare, n.currentShare])).toEqual([
      ['2026-11-18', -10, -0.25, 1, 0.5],
      ['2026-11-19', -20, -0.5, null, null],
    ]);
    expect(total).toMatchObject({ detections: 10, draftKWh: 50, currentKWh: 80, deltaKWh: -30, savedVsFull: 0.75 });
    const first = whatIfRows({ ...result, nights: [{ ...result.nights[0]!, current: null }], totals: { ...result.totals, current: null } });
    expect(first.total).toMatchObject({ currentKWh: null, deltaKWh: null, currentShare: null });
  });
});
