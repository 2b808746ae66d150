import Database from 'better-sqlite3';
import { z } from 'zod';
import { LucioleError } from '../core/errors.js';
import { policyRefSchema, siteSchema, type PolicyRef, type Site } from '../protocol/index.js';
import { parseInventory } from './inventory.js';
import { lampRecordSchema, type LampRecord } from './inventory-schema.js';
import { planVersionSchema, townPlanSchema, type PlanVersion, type TownPlan } from './plan.js';
import type {
  AuditEntry,
  CabinetPolicyState,
  CabinetRecord,
  ConfigStore,
  ImportReport,
} from './stores.js';
import { alertViewSchema, type AlertView } from './views.js';

/**
 * The controller's configuration in one SQLite file: inventory, plan versions, what policy each
 * cabinet was sent and acknowledged, alerts, the audit log and the town's settings.
 *
 * Durability: WAL with synchronous=FULL, so a call that returned is on disk.
 * Inventory re-imports update and add lamps but never remove one absent from the new file:
 * removing a lamp (and what refers to it: alerts, history) is a deliberate, later feature.
 */

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
}

function lampToRow(l: LampRecord): LampRow {
  return {
    id: l.id,
    cabinet_id: l.cabinetId,
    zone: l.zone,
    lat: l.lat,
    lon: l.lon,
    nominal_power_w: l.nominalPowerW,
    baseline_power_w: l.baselinePowerW,
    neighbours: JSON.stringify(l.neighbours),
  };
}

function rowToLamp(r: LampRow): LampRecord {
  return lampRecordSchema.parse({
    id: r.id,
    cabinetId: r.cabinet_id,
    zone: r.zone,
    lat: r.lat,
    lon: r.lon,
    nominalPowerW: r.nominal_power_w,
    baselinePowerW: r.baseline_power_w,
    neighbours: JSON.parse(r.neighbours) as unknown,
  });
}

function sameRow(a: LampRow, b: LampRow): boolean {
  return (
    a.cabinet_id === b.cabinet_id &&
    a.zone === b.zone &&
    a.lat === b.lat &&
    a.lon === b.lon &&
    a.nominal_power_w === b.nominal_power_w &&
    a.baseline_power_w === b.baseline_power_w &&
    a.neighbours === b.neighbours
  );
}

function ref(id: string | null, version: number | null): PolicyRef | null {
  return id === null || version === null ? null : policyRefSchema.parse({ id, version });
}

export function openConfigStore(file: string, opts: ConfigStoreOptions = {}): ConfigStore {
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
    insertLamp: db.prepare<[LampRow]>(
      `INSERT INTO lamps (id, cabinet_id, zone, lat, lon, nominal_power_w, baseline_power_w, neighbours)
       VALUES (@id, @cabinet_id, @zone, @lat, @lon, @nominal_power_w, @baseline_power_w, @neighbours)`,
    ),
    updateLamp: db.prepare<[LampRow]>(
      `UPDATE lamps SET cabinet_id = @cabinet_id, zone = @zone, lat = @lat, lon = @lon,
         nominal_power_w = @nominal_power_w, baseline_power_w = @baseline_power_w, neighbours = @neighbours
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
    currentPlan: db.prepare<[], PlanRow>('SELECT * FROM plan_versions ORDER BY version DESC LIMIT 1'),
    allPlans: db.prepare<[], PlanRow>('SELECT * FROM plan_versions ORDER BY version DESC'),
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
  };

  const audit = (actor: string, action: string, target: string, detail = ''): void => {
    st.audit.run(now(), actor, action, target, detail);
  };

  const importTx = db.transaction((lamps: LampRecord[], actor: string): ImportReport => {
    const existing = new Map<string, LampRow>();
    for (const row of st.allLamps.iterate()) existing.set(row.id, row);
    let created = 0;
    let updated = 0;
    let unchanged = 0;
    for (const lamp of lamps) {
      const row = lampToRow(lamp);
      const old = existing.get(lamp.id);
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

  const savePlanTx = db.transaction((plan: TownPlan, actor: string): PlanVersion => {
    const version = (st.lastPlanVersion.get()?.v ?? 0) + 1;
    const pv = planVersionSchema.parse({ version, author: actor, createdAt: now(), plan });
    st.insertPlan.run(pv.version, pv.plan.id, pv.author, pv.createdAt, JSON.stringify(pv.plan));
    audit(actor, 'plan.save', `plan:${pv.plan.id}@${pv.version}`, '');
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
    });

  return {
    db,

    importInventory(geojson, actor) {
      // Validated whole before the transaction opens: an invalid file writes nothing.
      const lamps = parseInventory(geojson);
      return importTx(lamps, actor);
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

    savePlan(plan, actor) {
      const parsed = townPlanSchema.safeParse(plan);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.map(String).join('.');
        throw new LucioleError('LUCIOLE_ERR_PLAN_INVALID', `plan: ${field}: ${issue.message}`, field);
      }
      return savePlanTx(parsed.data, actor);
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

    close() {
      if (db.open) db.close();
    },
  };
}

interface PlanRow {
  version: number;
  plan_id: string;
  author: string;
  created_at: number;
  json: string;
}
