import Database from 'better-sqlite3';

/**
 * A telemetry database as the first release wrote it (schema version 1: one row per lamp sample,
 * no roll-ups), for the migration tests. Test-only.
 */
export interface V1Sample {
  cabinetId: string;
  seq: number;
  ts: number;
  lampId: string;
  level: number;
  energyWh: number;
  /** What the first release stored: the counter delta against the lamp's previous sample. */
  deltaWh: number;
  fault?: string | null;
}

export function writeV1Database(file: string, samples: readonly V1Sample[], periodS = 60): void {
  const db = new Database(file);
  try {
    db.exec(`
      CREATE TABLE telemetry_messages (cabinet_id TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
        received_at INTEGER NOT NULL, period_s INTEGER NOT NULL, lamps INTEGER NOT NULL, cabinet_voltage_v REAL,
        cabinet_power_w REAL, cabinet_energy_wh REAL, PRIMARY KEY (cabinet_id, seq)) WITHOUT ROWID;
      CREATE INDEX telemetry_messages_ts ON telemetry_messages(ts);
      CREATE TABLE lamp_samples (lamp_id TEXT NOT NULL, ts INTEGER NOT NULL, cabinet_id TEXT NOT NULL, level REAL NOT NULL,
        power_w REAL NOT NULL, energy_wh REAL NOT NULL, delta_wh REAL NOT NULL, fault TEXT);
      CREATE INDEX lamp_samples_lamp_ts ON lamp_samples(lamp_id, ts);
      CREATE INDEX lamp_samples_ts ON lamp_samples(ts);
      CREATE TABLE presence (ts INTEGER NOT NULL, cabinet_id TEXT NOT NULL, lamp_id TEXT NOT NULL, sensor_id TEXT NOT NULL,
        kind TEXT NOT NULL, count INTEGER NOT NULL);
      CREATE INDEX presence_ts ON presence(ts);
      CREATE TABLE seq_floor (cabinet_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    `);
    const lamps = new Map<string, number>();
    for (const s of samples) lamps.set(`${s.cabinetId}\n${s.seq}`, (lamps.get(`${s.cabinetId}\n${s.seq}`) ?? 0) + 1);
    const addMessage = db.prepare('INSERT OR IGNORE INTO telemetry_messages VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL)');
    const addSample = db.prepare('INSERT INTO lamp_samples VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const s of samples) {
        addMessage.run(s.cabinetId, s.seq, s.ts, s.ts, periodS, lamps.get(`${s.cabinetId}\n${s.seq}`)!);
        addSample.run(s.lampId, s.ts, s.cabinetId, s.level, s.level / 2, s.energyWh, s.deltaWh, s.fault ?? null);
      }
    })();
    db.pragma('user_version = 1');
  } finally {
    db.close();
  }
}
