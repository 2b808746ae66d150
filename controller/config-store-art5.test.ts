import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LucioleError } from '../core/errors.js';
import { openConfigStore } from './config-store.js';

const inventory = (props: Record<string, unknown> = {}) => ({
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', geometry: { type: 'Point', coordinates: [4.83, 45.76] }, properties: { id: 'A1', cabinetId: 'CA', zone: 'z', nominalPowerW: 30, ...props } },
  ],
});

describe('config store: art. 5 lamp details', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luciole-art5-'));
    file = path.join(dir, 'config.db');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('migrates a database of the first schema, keeping its lamps, details unknown', () => {
    const first = openConfigStore(file);
    first.importInventory(inventory(), 'test');
    first.close();
    // Back to schema 1 as an older release left it.
    const db = new Database(file);
    for (const c of ['lamp_type', 'upward_light_ratio_pct', 'cie_flux_code3_pct', 'colour_temperature_k', 'max_power_w', 'nominal_flux_lm', 'installed_on']) {
      db.exec(`ALTER TABLE lamps DROP COLUMN ${c}`);
    }
    db.pragma('user_version = 1');
    db.close();

    const store = openConfigStore(file);
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(2);
      expect(store.lamps()).toEqual([{ id: 'A1', cabinetId: 'CA', zone: 'z', lat: 45.76, lon: 4.83, nominalPowerW: 30, baselinePowerW: null, neighbours: [] }]);
      const updated = store.updateLampDetails('A1', { installedOn: '2019-10-01', upwardLightRatioPct: 0 }, 'tech');
      expect(updated).toMatchObject({ installedOn: '2019-10-01', upwardLightRatioPct: 0 });
      expect(store.auditLog(1)[0]).toMatchObject({ actor: 'tech', action: 'lamp.update', target: 'lamp:A1' });
    } finally {
      store.close();
    }
  });

  it('keeps details a re-import leaves out, replaces those it gives, clears on null', () => {
    const store = openConfigStore(file);
    try {
      store.importInventory(inventory({ colourTemperatureK: 3000, lampType: 'LED' }), 'test');
      store.updateLampDetails('A1', { nominalFluxLm: 4000 }, 'tech');
      expect(store.importInventory(inventory(), 'test')).toMatchObject({ unchanged: 1 });
      expect(store.lamps()[0]).toMatchObject({ colourTemperatureK: 3000, lampType: 'LED', nominalFluxLm: 4000 });
      store.importInventory(inventory({ colourTemperatureK: 2700, lampType: null }), 'test');
      const lamp = store.lamps()[0]!;
      expect(lamp).toMatchObject({ colourTemperatureK: 2700, nominalFluxLm: 4000 });
      expect(lamp).not.toHaveProperty('lampType');
    } finally {
      store.close();
    }
  });

  it('refuses invalid details naming the field, and an unknown lamp', () => {
    const store = openConfigStore(file);
    try {
      store.importInventory(inventory(), 'test');
      const attempt = (id: string, patch: Record<string, unknown>): LucioleError => {
        try {
          store.updateLampDetails(id, patch, 'tech');
        } catch (e) {
          if (e instanceof LucioleError) return e;
        }
        throw new Error('no LucioleError');
      };
      expect(attempt('A1', { cieFluxCode3Pct: 101 })).toMatchObject({ code: 'LUCIOLE_ERR_LAMP_INVALID', field: 'cieFluxCode3Pct' });
      expect(attempt('A1', { installedOn: '2019-13-01' })).toMatchObject({ field: 'installedOn' });
      expect(attempt('A1', { zone: 'other' })).toMatchObject({ code: 'LUCIOLE_ERR_LAMP_INVALID', field: 'zone' });
      expect(attempt('B9', { maxPowerW: 10 })).toMatchObject({ code: 'LUCIOLE_ERR_LAMP_NOT_FOUND', field: 'id' });
      expect(() => store.importLamps([{ id: 'A1', cabinetId: 'CA', zone: 'z', lat: 1, lon: 1, nominalPowerW: 1, baselinePowerW: null, neighbours: [], maxPowerW: -1 }], 't')).toThrow(/0\.maxPowerW/);
      expect(store.lamps()[0]!.lat).toBe(45.76);
    } finally {
      store.close();
    }
  });
});
