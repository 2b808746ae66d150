import Database from 'better-sqlite3';
import { z } from 'zod';
import { LucioleError } from '../core/errors.js';
import { policyRefSchema, siteSchema, type PolicyRef, type Site } from '../protocol/index.js';
import { parseInventoryWithDetails } from './import/geojson-inventory.js';
import { lampDetailsSchema, lampRecordSchema, type LampDetails, type LampRecord } from './inventory-schema.js';
import { overrideRecordSchema } from './overrides.js';
import { planVersionSchema, townPlanSchema, type PlanVersion, type TownPlan } from './plan.js';
import {
  ROLES,
  type AccessCredential,
  type AccessStore,
  type AuditEntry,
  type CabinetPolicyState,
  type CabinetRecord,
  type ConfigStore,
  type ImportReport,
  type UserRecord,
} from './stores.js';
import { alertViewSchema, type AlertView } from './views.js';
import { lampGroupSchema, zoneMetaSchema } from './zones.js';

/**
 * The controller's configuration in one SQLite file: inventory, plan versions, what policy each
 * cabinet was sent and acknowledged, alerts, the audit log and the town's settings.
 *
 * Durability: WAL with synchronous=FULL, so a call that returned is on disk.
 * Inventory re-imports update and add lamps but never remove one absent from the new file:
 * removing a lamp (and what refers to it: alerts, history) is a deliberate, later feature.
 */

/**
 * Inventory writes beyond the GeoJSON import of `ConfigStore`: already-parsed lamp records (the
 * CSV import) and the art. 5 details of one lamp.
 */
export interface InventoryWriter {
  /**
   * Imports validated lamp records in one transaction, with the same rules as `importInventory`
   * (add and update, never remove; a detail left undefined keeps its stored value). Records are
   * checked whole first: an invalid one or a duplicate id throws LUCIOLE_ERR_INVENTORY_INVALID and
   * nothing is written.
   */
  importLamps(lamps: readonly LampRecord[], actor: string): ImportReport;
  /** Sets the given details of one lamp (`null` clears one). Throws LUCIOLE_ERR_LAMP_NOT_FOUND. */
  updateLampDetails(id: string, patch: LampDetails, actor: string): LampRecord;
}

export type SqliteConfigStore = ConfigStore & InventoryWriter & AccessStore;

export interface ConfigStoreOptions {
  /** Time source for created_at / audit timestamps. Default Date.now. */
  now?: () => number;
}

const townSchema = z.object({ name: z.string().trim().min(1).max(200), site: siteSchema });

const DEFAULT_TOWN_NAME = 'Ma commune';
const DEFAULT_TIMEZONE = 'Europe/Paris';
const PARIS = { lat: 48.8566, lon: 2.3522 };

/** Schema migrations; user_version = number applied. Append only. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE lamps (
    id TEXT PRIMARY KEY,
    cabinet_id TEXT NOT NULL,
    zone TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    nominal_power_w REAL NOT NULL,
    baseline_power_w REAL,
    neighbours TEXT NOT NULL
  );
  CREATE INDEX lamps_cabinet ON lamps(cabinet_id);
  CREATE TABLE plan_versions (
    version INTEGER PRIMARY KEY,
    plan_id TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    json TEXT NOT NULL
  );
  CREATE TABLE cabinet_policy (
    cabinet_id TEXT PRIMARY KEY,
    published_id TEXT,
    published_version INTEGER,
    published_at INTEGER,
    acked_id TEXT,
    acked_version INTEGER,
    acked_at INTEGER
  );
  CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    json TEXT NOT NULL
  );
  CREATE INDEX alerts_opened ON alerts(opened_at);
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // arrêté du 27 décembre 2018, art. 5: per-installation data, unknown (NULL) until given.
  `
  ALTER TABLE lamps ADD COLUMN lamp_type TEXT;
  ALTER TABLE lamps ADD COLUMN upward_light_ratio_pct REAL;
  ALTER TABLE lamps ADD COLUMN cie_flux_code3_pct REAL;
  ALTER TABLE lamps ADD COLUMN colour_temperature_k REAL;
  ALTER TABLE lamps ADD COLUMN max_power_w REAL;
  ALTER TABLE lamps ADD COLUMN nominal_flux_lm REAL;
  ALTER TABLE lamps ADD COLUMN installed_on TEXT;
  `,
  // Policies (issue 3): zone metadata, groups of lamps, overrides, a note per plan version.
  // IF NOT EXISTS: a database stepped back to an older version number re-runs this safely.
  `
  CREATE TABLE IF NOT EXISTS zones (
    name TEXT PRIMARY KEY,
    json TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS lamp_groups (
    id TEXT PRIMARY KEY,
    json TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS overrides (
    id TEXT PRIMARY KEY,
    until INTEGER NOT NULL,
    cleared_at INTEGER,
    json TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS overrides_until ON overrides(until);
  CREATE TABLE IF NOT EXISTS plan_notes (
    version INTEGER PRIMARY KEY,
    note TEXT NOT NULL
  );
  `,
  // HTTP API access (issue 7): users with scrypt password hashes; sessions and API tokens kept
  // only as the sha256 of the token. Credentials are never deleted with their user: revoked,
  // they stay until pruned, so the audit log's targets still resolve meanwhile.
  `
  CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    disabled_at INTEGER
  );
  CREATE TABLE IF NOT EXISTS access_credentials (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    username TEXT,
    label TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    idle_timeout_ms INTEGER,
    revoked_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS access_credentials_user ON access_credentials(username);
  `,
];

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new LucioleError(
      'LUCIOLE_ERR_DB_VERSION',
      `config database schema version ${current} is newer than this program (${MIGRATIONS.length})`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

interface LampRow {
  id: string;
  cabinet_id: string;
  zone: string;
  lat: number;
  lon: number;
  nominal_power_w: number;
  baseline_power_w: number | null;
  neighbours: string;
  lamp_type: string | null;
  upward_light_ratio_pct: number | null;
  cie_flux_code3_pct: number | null;
  colour_temperature_k: number | null;
  max_power_w: number | null;
  nominal_flux_lm: number | null;
  installed_on: string | null;
}

/** Each art. 5 detail and its column. */
const DETAIL_COLUMNS = {
  lampType: 'lamp_type',
  upwardLightRatioPct: 'upward_light_ratio_pct',
  cieFluxCode3Pct: 'cie_flux_code3_pct',
  colourTemperatureK: 'colour_temperature_k',
  maxPowerW: 'max_power_w',
  nominalFluxLm: 'nominal_flux_lm',
  installedOn: 'installed_on',
} as const satisfies Record<keyof LampDetails, keyof LampRow>;
const DETAIL_ENTRIES = Object.entries(DETAIL_COLUMNS) as Array<[keyof LampDetails, (typeof DETAIL_COLUMNS)[keyof LampDetails]]>;

/** A detail left undefined keeps `old`'s value (none for a new lamp): imports never erase by omission. */
function lampToRow(l: LampRecord, old?: LampRow): LampRow {
  const row = {
    id: l.id,
    cabinet_id: l.cabinetId,
    zone: l.zone,
    lat: l.lat,
    lon: l.lon,
    nominal_power_w: l.nominalPowerW,
    baseline_power_w: l.baselinePowerW,
    neighbours: JSON.stringify(l.neighbours),
  } as LampRow;
  const target = row as unknown as Record<string, unknown>;
  for (const [key, column] of DETAIL_ENTRIES) {
    const value = l[key];
    target[column] = value === undefined ? (old?.[column] ?? null) : value;
  }
  return row;
}

function rowToLamp(r: LampRow): LampRecord {
  const lamp: Record<string, unknown> = {
    id: r.id,
    cabinetId: r.cabinet_id,
    zone: r.zone,
    lat: r.lat,
    lon: r.lon,
    nominalPowerW: r.nominal_power_w,
    baselinePowerW: r.baseline_power_w,
    neighbours: JSON.parse(r.neighbours) as unknown,
  };
  // Unknown details are left out rather than null, so records read back equal the ones imported.
  for (const [key, column] of DETAIL_ENTRIES) {
    if (r[column] !== null) lamp[key] = r[column];
  }
  return lampRecordSchema.parse(lamp);
}

function sameRow(a: LampRow, b: LampRow): boolean {
  return (
    a.cabinet_id === b.cabinet_id &&
    a.zone === b.zone &&
    a.lat === b.lat &&
    a.lon === b.lon &&
    a.nominal_power_w === b.nominal_power_w &&
    a.baseline_power_w === b.baseline_power_w &&
    a.neighbours === b.neighbours &&
    DETAIL_ENTRIES.every(([, column]) => a[column] === b[column])
  );
}

function ref(id: string | null, version: number | null): PolicyRef | null {
  return id === null || version === null ? null : policyRefSchema.parse({ id, version });
}

export function openConfigStore(file: string, opts: ConfigStoreOptions = {}): SqliteConfigStore {
  const now = opts.now ?? Date.now;
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }

  const st = {
    allLamps: db.prepare<[], LampRow>('SELECT * FROM lamps ORDER BY id'),
    oneLamp: db.prepare<[string], LampRow>('SELECT * FROM lamps WHERE id = ?'),
    insertLamp: db.prepare<[LampRow]>(
      `INSERT INTO lamps (id, cabinet_id, zone, lat, lon, nominal_power_w, baseline_power_w, neighbours,
         lamp_type, upward_light_ratio_pct, cie_flux_code3_pct, colour_temperature_k, max_power_w, nominal_flux_lm, installed_on)
       VALUES (@id, @cabinet_id, @zone, @lat, @lon, @nominal_power_w, @baseline_power_w, @neighbours,
         @lamp_type, @upward_light_ratio_pct, @cie_flux_code3_pct, @colour_temperature_k, @max_power_w, @nominal_flux_lm, @installed_on)`,
    ),
    updateLamp: db.prepare<[LampRow]>(
      `UPDATE lamps SET cabinet_id = @cabinet_id, zone = @zone, lat = @lat, lon = @lon,
         nominal_power_w = @nominal_power_w, baseline_power_w = @baseline_power_w, neighbours = @neighbours,
         lamp_type = @lamp_type, upward_light_ratio_pct = @upward_light_ratio_pct, cie_flux_code3_pct = @cie_flux_code3_pct,
         colour_temperature_k = @colour_temperature_k, max_power_w = @max_power_w, nominal_flux_lm = @nominal_flux_lm,
         installed_on = @installed_on
       WHERE id = @id`,
    ),
    cabinets: db.prepare<[], { id: string; lat: number; lon: number; lamps: number }>(
      `SELECT cabinet_id AS id, AVG(lat) AS lat, AVG(lon) AS lon, COUNT(*) AS lamps
       FROM lamps GROUP BY cabinet_id ORDER BY cabinet_id`,
    ),
    centroid: db.prepare<[], { lat: number | null; lon: number | null }>('SELECT AVG(lat) AS lat, AVG(lon) AS lon FROM lamps'),
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
    putSetting: db.prepare<[string, string]>(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ),
    lastPlanVersion: db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM plan_versions'),
    insertPlan: db.prepare<[number, string, string, number, string]>(
      'INSERT INTO plan_versions (version, plan_id, author, created_at, json) VALUES (?, ?, ?, ?, ?)',
    ),
    currentPlan: db.prepare<[], PlanRow>(
      'SELECT p.*, n.note FROM plan_versions p LEFT JOIN plan_notes n USING (version) ORDER BY version DESC LIMIT 1',
    ),
    allPlans: db.prepare<[], PlanRow>('SELECT p.*, n.note FROM plan_versions p LEFT JOIN plan_notes n USING (version) ORDER BY version DESC'),
    onePlan: db.prepare<[number], PlanRow>('SELECT p.*, n.note FROM plan_versions p LEFT JOIN plan_notes n USING (version) WHERE version = ?'),
    insertNote: db.prepare<[number, string]>('INSERT INTO plan_notes (version, note) VALUES (?, ?)'),
    zones: db.prepare<[], { json: string }>('SELECT json FROM zones ORDER BY name'),
    putZone: db.prepare<[string, string]>(
      'INSERT INTO zones (name, json) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET json = excluded.json',
    ),
    groups: db.prepare<[], { json: string }>('SELECT json FROM lamp_groups ORDER BY id'),
    putGroup: db.prepare<[string, string]>(
      'INSERT INTO lamp_groups (id, json) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json',
    ),
    deleteGroup: db.prepare<[string]>('DELETE FROM lamp_groups WHERE id = ?'),
    putOverride: db.prepare<[string, number, number | null, string]>(
      `INSERT INTO overrides (id, until, cleared_at, json) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET until = excluded.until, cleared_at = excluded.cleared_at, json = excluded.json`,
    ),
    activeOverrides: db.prepare<[number], { json: string }>(
      'SELECT json FROM overrides WHERE cleared_at IS NULL AND until > ? ORDER BY until, id',
    ),
    oneOverride: db.prepare<[string], { json: string }>('SELECT json FROM overrides WHERE id = ?'),
    setPublished: db.prepare<[string, string, number, number]>(
      `INSERT INTO cabinet_policy (cabinet_id, published_id, published_version, published_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(cabinet_id) DO UPDATE SET published_id = excluded.published_id,
         published_version = excluded.published_version, published_at = excluded.published_at`,
    ),
    setAcked: db.prepare<[string, string, number, number]>(
      `INSERT INTO cabinet_policy (cabinet_id, acked_id, acked_version, acked_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(cabinet_id) DO UPDATE SET acked_id = excluded.acked_id,
         acked_version = excluded.acked_version, acked_at = excluded.acked_at`,
    ),
    policyStates: db.prepare<
      [],
      {
        cabinet_id: string;
        published_id: string | null;
        published_version: number | null;
        acked_id: string | null;
        acked_version: number | null;
      }
    >('SELECT * FROM cabinet_policy ORDER BY cabinet_id'),
    saveAlert: db.prepare<[string, string, number, string]>(
      `INSERT INTO alerts (id, state, opened_at, json) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET state = excluded.state, opened_at = excluded.opened_at, json = excluded.json`,
    ),
    alerts: db.prepare<[], { json: string }>('SELECT json FROM alerts ORDER BY opened_at DESC, id'),
    audit: db.prepare<[number, string, string, string, string]>(
      'INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)',
    ),
    auditLog: db.prepare<[number], AuditEntry>(
      'SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?',
    ),
    users: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY username'),
    oneUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
    insertUser: db.prepare<[string, string, string, number, string, number]>(
      `INSERT INTO users (username, role, password_hash, created_at, created_by, updated_at, disabled_at)
       VALUES (?, ?, ?, ?, ?, ?, NULL)`,
    ),
    updateUser: db.prepare<[string, string, number | null, number, string]>(
      'UPDATE users SET role = ?, password_hash = ?, disabled_at = ?, updated_at = ? WHERE username = ?',
    ),
    deleteUser: db.prepare<[string]>('DELETE FROM users WHERE username = ?'),
    insertCredential: db.prepare<[CredentialRow]>(
      `INSERT INTO access_credentials (id, token_hash, kind, username, label, role, created_at, created_by, expires_at, idle_timeout_ms, revoked_at)
       VALUES (@id, @token_hash, @kind, @username, @label, @role, @created_at, @created_by, @expires_at, @idle_timeout_ms, @revoked_at)`,
    ),
    credentialByHash: db.prepare<[string], CredentialRow>('SELECT * FROM access_credentials WHERE token_hash = ?'),
    credentialById: db.prepare<[string], CredentialRow>('SELECT * FROM access_credentials WHERE id = ?'),
    allCredentials: db.prepare<[], CredentialRow>('SELECT * FROM access_credentials ORDER BY created_at DESC, id'),
    revokeCredential: db.prepare<[number, string]>('UPDATE access_credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    revokeUserCredentials: db.prepare<[number, string]>(
      'UPDATE access_credentials SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL',
    ),
    pruneCredentials: db.prepare<[number, number]>(
      'DELETE FROM access_credentials WHERE expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)',
    ),
  };

  const audit = (actor: string, action: string, target: string, detail = ''): void => {
    st.audit.run(now(), actor, action, target, detail);
  };

  const importTx = db.transaction((lamps: readonly LampRecord[], actor: string): ImportReport => {
    const existing = new Map<string, LampRow>();
    for (const row of st.allLamps.iterate()) existing.set(row.id, row);
    let created = 0;
    let updated = 0;
    let unchanged = 0;
    for (const lamp of lamps) {
      const old = existing.get(lamp.id);
      const row = lampToRow(lamp, old);
      if (!old) {
        st.insertLamp.run(row);
        created++;
      } else if (!sameRow(old, row)) {
        st.updateLamp.run(row);
        updated++;
      } else {
        unchanged++;
      }
    }
    const report: ImportReport = {
      lamps: lamps.length,
      cabinets: new Set(lamps.map((l) => l.cabinetId)).size,
      zones: new Set(lamps.map((l) => l.zone)).size,
      created,
      updated,
      unchanged,
    };
    audit(actor, 'inventory.import', 'inventory', JSON.stringify(report));
    return report;
  });

  const updateDetailsTx = db.transaction((id: string, patch: LampDetails, actor: string): LampRecord => {
    const old = st.oneLamp.get(id);
    if (!old) throw new LucioleError('LUCIOLE_ERR_LAMP_NOT_FOUND', `no lamp "${id}"`, 'id');
    const lamp = { ...rowToLamp(old), ...patch };
    const row = lampToRow(lamp, old);
    if (!sameRow(old, row)) {
      st.updateLamp.run(row);
      audit(actor, 'lamp.update', `lamp:${id}`, JSON.stringify(patch));
    }
    return rowToLamp(row);
  });

  const savePlanTx = db.transaction((plan: TownPlan, actor: string, note: string | undefined): PlanVersion => {
    const version = (st.lastPlanVersion.get()?.v ?? 0) + 1;
    const pv = planVersionSchema.parse({ version, author: actor, createdAt: now(), plan, ...(note ? { note } : {}) });
    st.insertPlan.run(pv.version, pv.plan.id, pv.author, pv.createdAt, JSON.stringify(pv.plan));
    if (pv.note) st.insertNote.run(pv.version, pv.note);
    audit(actor, 'plan.save', `plan:${pv.plan.id}@${pv.version}`, pv.note ?? '');
    return pv;
  });

  const setTownTx = db.transaction((town: z.infer<typeof townSchema>, actor: string): void => {
    st.putSetting.run('town', JSON.stringify(town));
    audit(actor, 'town.set', 'town', JSON.stringify(town));
  });

  const rowToPlan = (r: PlanRow): PlanVersion =>
    planVersionSchema.parse({
      version: r.version,
      author: r.author,
      createdAt: r.created_at,
      plan: JSON.parse(r.json) as unknown,
      ...(r.note ? { note: r.note } : {}),
    });

  return {
    db,

    importInventory(geojson, actor) {
      // Validated whole before the transaction opens: an invalid file writes nothing.
      const lamps = parseInventoryWithDetails(geojson);
      return importTx(lamps, actor);
    },

    importLamps(lamps, actor) {
      const seen = new Set<string>();
      for (let i = 0; i < lamps.length; i++) {
        const parsed = lampRecordSchema.safeParse(lamps[i]);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          const field = [String(i), ...issue.path.map(String)].join('.');
          throw new LucioleError('LUCIOLE_ERR_INVENTORY_INVALID', `lamp ${i}: ${field}: ${issue.message}`, field);
        }
        if (seen.has(parsed.data.id)) {
          throw new LucioleError('LUCIOLE_ERR_INVENTORY_INVALID', `lamp ${i}: duplicate lamp id "${parsed.data.id}"`, `${i}.id`);
        }
        seen.add(parsed.data.id);
      }
      return importTx(lamps, actor);
    },

    updateLampDetails(id, patch, actor) {
      const parsed = lampDetailsSchema.strict().safeParse(patch);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.map(String).join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(',') : '');
        throw new LucioleError('LUCIOLE_ERR_LAMP_INVALID', `lamp "${id}": ${field}: ${issue.message}`, field);
      }
      return updateDetailsTx(id, parsed.data, actor);
    },

    lamps() {
      return st.allLamps.all().map(rowToLamp);
    },

    cabinets(): CabinetRecord[] {
      return st.cabinets.all();
    },

    town() {
      const stored = st.getSetting.get('town');
      if (stored) {
        const parsed = townSchema.safeParse(JSON.parse(stored.value));
        if (parsed.success) return parsed.data;
      }
      const c = st.centroid.get();
      const site: Site =
        c && c.lat !== null && c.lon !== null
          ? { lat: c.lat, lon: c.lon, timezone: DEFAULT_TIMEZONE }
          : { ...PARIS, timezone: DEFAULT_TIMEZONE };
      return { name: DEFAULT_TOWN_NAME, site };
    },

    setTown(town, actor) {
      const parsed = townSchema.safeParse(town);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.map(String).join('.');
        throw new LucioleError('LUCIOLE_ERR_TOWN_INVALID', `town: ${field}: ${issue.message}`, field);
      }
      setTownTx(parsed.data, actor);
    },

    savePlan(plan, actor, note) {
      const parsed = townPlanSchema.safeParse(plan);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.map(String).join('.');
        throw new LucioleError('LUCIOLE_ERR_PLAN_INVALID', `plan: ${field}: ${issue.message}`, field);
      }
      return savePlanTx(parsed.data, actor, note);
    },

    planVersion(version) {
      const row = st.onePlan.get(version);
      return row ? rowToPlan(row) : undefined;
    },

    zones() {
      return st.zones.all().map((r) => zoneMetaSchema.parse(JSON.parse(r.json)));
    },

    saveZone(zone, actor) {
      const z = parseOrThrow(zoneMetaSchema, zone, 'LUCIOLE_ERR_ZONE_INVALID');
      db.transaction(() => {
        st.putZone.run(z.name, JSON.stringify(z));
        audit(actor, 'zone.save', `zone:${z.name}`, JSON.stringify(z));
      })();
      return z;
    },

    groups() {
      return st.groups.all().map((r) => lampGroupSchema.parse(JSON.parse(r.json)));
    },

    saveGroup(group, actor) {
      const g = parseOrThrow(lampGroupSchema, group, 'LUCIOLE_ERR_GROUP_INVALID');
      db.transaction(() => {
        st.putGroup.run(g.id, JSON.stringify(g));
        audit(actor, 'group.save', `group:${g.id}`, `${g.lamps.length} lamps`);
      })();
      return g;
    },

    deleteGroup(id, actor) {
      return db.transaction(() => {
        const removed = st.deleteGroup.run(id).changes > 0;
        if (removed) audit(actor, 'group.delete', `group:${id}`, '');
        return removed;
      })();
    },

    saveOverride(o) {
      const r = overrideRecordSchema.parse(o);
      st.putOverride.run(r.id, r.until, r.clearedAt, JSON.stringify(r));
    },

    activeOverrides(at) {
      return st.activeOverrides.all(at).map((r) => overrideRecordSchema.parse(JSON.parse(r.json)));
    },

    override(id) {
      const row = st.oneOverride.get(id);
      return row ? overrideRecordSchema.parse(JSON.parse(row.json)) : undefined;
    },

    currentPlan() {
      const row = st.currentPlan.get();
      return row ? rowToPlan(row) : null;
    },

    planVersions() {
      return st.allPlans.all().map(rowToPlan);
    },

    setPolicyPublished(cabinetId, r) {
      st.setPublished.run(cabinetId, r.id, r.version, now());
    },

    setPolicyAcked(cabinetId, r) {
      st.setAcked.run(cabinetId, r.id, r.version, now());
    },

    policyStates(): CabinetPolicyState[] {
      return st.policyStates.all().map((r) => ({
        cabinetId: r.cabinet_id,
        published: ref(r.published_id, r.published_version),
        acked: ref(r.acked_id, r.acked_version),
      }));
    },

    saveAlert(alert: AlertView) {
      const a = alertViewSchema.parse(alert);
      st.saveAlert.run(a.id, a.state, a.openedAt, JSON.stringify(a));
    },

    alerts() {
      return st.alerts.all().map((r) => alertViewSchema.parse(JSON.parse(r.json)));
    },

    audit,

    auditLog(limit) {
      return st.auditLog.all(Math.max(0, Math.floor(limit)));
    },

    users() {
      return st.users.all().map((r) => rowToUser(r));
    },

    user(username) {
      const row = st.oneUser.get(username);
      return row ? { ...rowToUser(row), passwordHash: row.password_hash } : undefined;
    },

    createUser(user, actor) {
      const role = roleSchema.parse(user.role);
      return db.transaction((): UserRecord => {
        if (st.oneUser.get(user.username)) {
          throw new LucioleError('LUCIOLE_ERR_USER_EXISTS', `a user "${user.username}" already exists`, 'username');
        }
        const at = now();
        st.insertUser.run(user.username, role, user.passwordHash, at, actor, at);
        audit(actor, 'user.create', `user:${user.username}`, `role=${role}`);
        return rowToUser(st.oneUser.get(user.username)!);
      })();
    },

    updateUser(username, patch, actor) {
      return db.transaction((): UserRecord => {
        const old = st.oneUser.get(username);
        if (!old) throw new LucioleError('LUCIOLE_ERR_USER_NOT_FOUND', `no user "${username}"`, 'username');
        const at = now();
        const role = patch.role === undefined ? old.role : roleSchema.parse(patch.role);
        const disabledAt = patch.disabled === undefined ? old.disabled_at : patch.disabled ? (old.disabled_at ?? at) : null;
        st.updateUser.run(role, patch.passwordHash ?? old.password_hash, disabledAt, at, username);
        // A new password or a disabled account ends whatever was opened with the old state.
        if (patch.passwordHash !== undefined || patch.disabled === true) st.revokeUserCredentials.run(at, username);
        const changes: string[] = [];
        if (patch.role !== undefined) changes.push(`role=${role}`);
        if (patch.passwordHash !== undefined) changes.push('password changed');
        if (patch.disabled !== undefined) changes.push(patch.disabled ? 'disabled' : 'enabled');
        audit(actor, 'user.update', `user:${username}`, changes.join(', '));
        return rowToUser(st.oneUser.get(username)!);
      })();
    },

    deleteUser(username, actor) {
      return db.transaction((): boolean => {
        if (st.deleteUser.run(username).changes === 0) return false;
        st.revokeUserCredentials.run(now(), username);
        audit(actor, 'user.delete', `user:${username}`, '');
        return true;
      })();
    },

    addCredential(c, actor) {
      const row: CredentialRow = {
        id: c.id,
        token_hash: c.tokenHash,
        kind: credentialKindSchema.parse(c.kind),
        username: c.username,
        label: c.label,
        role: roleSchema.parse(c.role),
        created_at: c.createdAt,
        created_by: c.createdBy,
        expires_at: c.expiresAt,
        idle_timeout_ms: c.idleTimeoutMs,
        revoked_at: null,
      };
      return db.transaction((): AccessCredential => {
        st.insertCredential.run(row);
        audit(actor, `${row.kind}.create`, `${row.kind}:${row.id}`, `role=${row.role}, expires=${new Date(row.expires_at).toISOString()}`);
        return rowToCredential(row);
      })();
    },

    credentialByTokenHash(tokenHash) {
      const row = st.credentialByHash.get(tokenHash);
      return row ? rowToCredential(row) : undefined;
    },

    credential(id) {
      const row = st.credentialById.get(id);
      return row ? rowToCredential(row) : undefined;
    },

    credentials(filter = {}) {
      const out: AccessCredential[] = [];
      for (const row of st.allCredentials.iterate()) {
        if (filter.kind !== undefined && row.kind !== filter.kind) continue;
        if (filter.username !== undefined && row.username !== filter.username) continue;
        if (filter.activeAt !== undefined && (row.revoked_at !== null || row.expires_at <= filter.activeAt)) continue;
        out.push(rowToCredential(row));
      }
      return out;
    },

    revokeCredential(id, actor) {
      return db.transaction((): boolean => {
        const row = st.credentialById.get(id);
        if (!row || st.revokeCredential.run(now(), id).changes === 0) return false;
        audit(actor, `${row.kind}.revoke`, `${row.kind}:${id}`, '');
        return true;
      })();
    },

    pruneCredentials(before) {
      return st.pruneCredentials.run(before, before).changes;
    },

    close() {
      if (db.open) db.close();
    },
  };
}

interface UserRow {
  username: string;
  role: string;
  password_hash: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  disabled_at: number | null;
}

interface CredentialRow {
  id: string;
  token_hash: string;
  kind: string;
  username: string | null;
  label: string;
  role: string;
  created_at: number;
  created_by: string;
  expires_at: number;
  idle_timeout_ms: number | null;
  revoked_at: number | null;
}

const roleSchema = z.enum(ROLES);
const credentialKindSchema = z.enum(['session', 'token']);

function rowToUser(r: UserRow): UserRecord {
  return {
    username: r.username,
    role: roleSchema.parse(r.role),
    createdAt: r.created_at,
    createdBy: r.created_by,
    updatedAt: r.updated_at,
    disabled: r.disabled_at !== null,
  };
}

function rowToCredential(r: CredentialRow): AccessCredential {
  return {
    id: r.id,
    kind: credentialKindSchema.parse(r.kind),
    username: r.username,
    label: r.label,
    role: roleSchema.parse(r.role),
    createdAt: r.created_at,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    idleTimeoutMs: r.idle_timeout_ms,
    revokedAt: r.revoked_at,
  };
}

interface PlanRow {
  version: number;
  plan_id: string;
  author: string;
  created_at: number;
  json: string;
  note: string | null;
}

/** Validates `input` with `schema`, or throws `code` naming the first offending field. */
function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown, code: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    throw new LucioleError(code, `${field || '(value)'}: ${issue.message}`, field);
  }
  return parsed.data;
}
