import { describe, expect, it } from 'vitest';
import { lampFeatureSchema, inventorySchema } from '../controller/inventory-schema.js';
import { townPlanSchema } from '../controller/plan.js';
import { checkPlan } from '../policy/compliance.js';
import { demoPlan, demoZones, generateTown, townInventory } from './town.js';

describe('simulated town', () => {
  const town = generateTown();

  it('has about 500 lamps in a dozen cabinets, deterministic', () => {
    expect(town.cabinets).toHaveLength(12);
    expect(town.lamps.length).toBeGreaterThanOrEqual(450);
    expect(town.lamps.length).toBeLessThanOrEqual(550);
    expect(generateTown()).toEqual(town);
    expect(new Set(town.lamps.map((l) => l.id)).size).toBe(town.lamps.length);
    expect(new Set(town.lamps.map((l) => l.zone))).toEqual(new Set(['centre', 'residentiel', 'parc', 'activite']));
  });

  it('exports a valid inventory and a valid plan', () => {
    const inv = townInventory(town);
    expect(inventorySchema.safeParse(inv).success).toBe(true);
    for (const f of inv.features) expect(lampFeatureSchema.safeParse(f).success).toBe(true);
    expect(townPlanSchema.safeParse(demoPlan()).success).toBe(true);
  });

  it('has streets that continue across cabinets (lamps of two cabinets 30 m apart)', () => {
    const byCab = new Map<string, typeof town.lamps>();
    for (const l of town.lamps) byCab.set(l.cabinetId, [...(byCab.get(l.cabinetId) ?? []), l]);
    const a = byCab.get('ARM-01')!;
    const b = byCab.get('ARM-02')!;
    const mLat = 111_320;
    const mLon = 111_320 * Math.cos((town.site.lat * Math.PI) / 180);
    let best = Infinity;
    for (const p of a) for (const q of b) best = Math.min(best, Math.hypot((p.lat - q.lat) * mLat, (p.lon - q.lon) * mLon));
    expect(best).toBeGreaterThan(25);
    expect(best).toBeLessThan(35);
  });
});

describe('the demo plan', () => {
  it('passes the compliance checks for a whole year, zones as the demo declares them', () => {
    const town = generateTown();
    const findings = checkPlan({
      plan: demoPlan(),
      site: town.site,
      zones: demoZones(),
      firstNight: '2026-01-01',
      nights: 365,
    });
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  });
});
