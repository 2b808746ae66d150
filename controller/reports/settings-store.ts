import type { Database } from 'better-sqlite3';
import { LucioleError } from '../../core/errors.js';
import { DEFAULT_REPORT_SETTINGS, reportSettingsSchema, type ReportSettings } from './settings.js';

/**
 * The report settings (tariffs, emission factor) in the config database, in a table of their
 * own: one validated JSON document. `init()` creates the table; nothing is done in the constructor.
 */
export class ReportSettingsStore {
  private ready = false;

  constructor(
    private readonly db: Database,
    private readonly audit?: (actor: string, action: string, target: string, detail?: string) => void,
  ) {}

  init(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS report_settings (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)');
    this.ready = true;
  }

  get(): ReportSettings {
    this.requireReady();
    const row = this.db.prepare<[], { json: string }>('SELECT json FROM report_settings WHERE id = 1').get();
    if (!row) return DEFAULT_REPORT_SETTINGS;
    // Written validated by `save`; a row edited by hand into something invalid falls back to the defaults.
    const parsed = reportSettingsSchema.safeParse(JSON.parse(row.json));
    return parsed.success ? parsed.data : DEFAULT_REPORT_SETTINGS;
  }

  /** Validates (LUCIOLE_ERR_VALIDATION naming the field), saves and audits. */
  save(settings: unknown, actor: string): ReportSettings {
    this.requireReady();
    const parsed = reportSettingsSchema.safeParse(settings);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.');
      throw new LucioleError('LUCIOLE_ERR_VALIDATION', `${field || 'settings'}: ${issue.message}`, field);
    }
    const json = JSON.stringify(parsed.data);
    this.db
      .prepare('INSERT INTO report_settings (id, json) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json')
      .run(json);
    this.audit?.(actor, 'reports.settings.save', 'report_settings', json);
    return parsed.data;
  }

  private requireReady(): void {
    if (!this.ready) throw new LucioleError('LUCIOLE_ERR_NOT_INITIALISED', 'ReportSettingsStore.init() was not called');
  }
}
