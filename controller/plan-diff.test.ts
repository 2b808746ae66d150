import { describe, expect, it } from 'vitest';
import { diffPlans, withDiffSummaries } from './plan-diff.js';
import type { TownPlan } from './plan.js';

const base: TownPlan = {
  id: 'plan',
  failsafeLevel: 100,
  defaultProfile: 'rue',
  zones: { centre: 'rue', parc: 'parc' },
  profiles: {
    rue: { schedule: [{ from: 'dusk', to: '23:00', level: 70 }, { from: '23:00', to: 'dawn', level: 20 }] },
    parc: { schedule: [{ from: 'dusk', to: '22:00', level: 40 }] },
  },
};

const clone = (p: TownPlan): TownPlan => structuredClone(p);

describe('diffPlans', () => {
  it('finds nothing between equal plans', () => {
    const d = diffPlans(base, clone(base));
    expect(d).toMatchObject({ added: 0, removed: 0, changed: 0, changes: [], summary: 'Aucune modification' });
  });

  it('names a changed slot end with its old and new values', () => {
    const next = clone(base);
    next.profiles.parc!.schedule[0]!.to = '03:00';
    const d = diffPlans(base, next);
    expect(d.changes).toEqual([{ kind: 'changed', path: 'profiles.parc.schedule[0].to', before: '22:00', after: '03:00' }]);
    expect(d.summary).toBe('1 modification : profiles.parc.schedule[0].to');
  });

  it('reports added and removed profiles, zones, slots and optional fields', () => {
    const next = clone(base);
    next.profiles.fete = { schedule: [{ from: 'dusk', to: 'dawn', level: 100 }] };
    delete next.zones.parc;
    next.profiles.rue!.schedule.push({ from: '05:30', to: 'dawn', level: 60 });
    next.profiles.rue!.presence = { level: 90, holdS: 60, rampUpMs: 300, rampDownS: 20, propagate: 1 };
    next.calendar = [{ when: { dates: ['--07-14'] }, profiles: { rue: 'fete' } }];
    const d = diffPlans(base, next);
    const byPath = Object.fromEntries(d.changes.map((c) => [c.path, c]));
    expect(byPath['profiles.fete']).toEqual({ kind: 'added', path: 'profiles.fete', after: next.profiles.fete });
    expect(byPath['zones.parc']).toEqual({ kind: 'removed', path: 'zones.parc', before: 'parc' });
    expect(byPath['profiles.rue.schedule[2]']).toMatchObject({ kind: 'added', after: { from: '05:30', to: 'dawn', level: 60 } });
    expect(byPath['profiles.rue.presence']?.kind).toBe('added');
    expect(byPath.calendar?.kind).toBe('added');
    expect(d).toMatchObject({ added: 4, removed: 1, changed: 0 });
    expect(d.summary).toMatch(/^4 ajouts, 1 suppression : /);
  });

  it('a shorter schedule shows the removed slots', () => {
    const next = clone(base);
    next.profiles.rue!.schedule = [{ from: 'dusk', to: 'dawn', level: 50 }];
    const d = diffPlans(base, next);
    expect(d.changes).toEqual([
      { kind: 'changed', path: 'profiles.rue.schedule[0].level', before: 70, after: 50 },
      { kind: 'changed', path: 'profiles.rue.schedule[0].to', before: '23:00', after: 'dawn' },
      { kind: 'removed', path: 'profiles.rue.schedule[1]', before: base.profiles.rue!.schedule[1] },
    ]);
  });

  it('against no previous version, everything is added', () => {
    const d = diffPlans(null, base);
    expect(d.changes.map((c) => c.path)).toEqual(['defaultProfile', 'failsafeLevel', 'id', 'profiles', 'zones']);
    expect(d.changes.every((c) => c.kind === 'added')).toBe(true);
  });

  it('summarizes each version of a history against the one before it', () => {
    const next = clone(base);
    next.failsafeLevel = 80;
    const history = withDiffSummaries([
      { version: 2, plan: next },
      { version: 1, plan: base },
    ]);
    expect(history.map((v) => [v.version, v.current, v.diff.changed, v.diff.added])).toEqual([
      [2, true, 1, 0],
      [1, false, 0, 5],
    ]);
    expect(history[0]!.diff).toEqual({ added: 0, removed: 0, changed: 1, summary: '1 modification : failsafeLevel' });
  });
});
