// @ts-check
/**
 * The policy editor's logic with no DOM and no network: time expressions, the level curve's
 * geometry, rollout progress from live cabinet events, the override form, the what-if table.
 * Run by the browser and by vitest (dashboard/ui-policies.test.ts), so it only uses what both have.
 */

/**
 * PROTOCOL.md's time expression: `HH:MM`, `dusk`/`dawn`, optionally shifted by whole minutes.
 * A copy of protocol/messages.ts TIME_EXPR_PATTERN (the browser cannot load zod); a test keeps both equal.
 */
export const TIME_EXPR_PATTERN = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|(?:dusk|dawn)(?:[+-]\d{1,3})?)$/;

export const ZONE_CATEGORIES = /** @type {const} */ ([
  ['road', 'Voirie'],
  ['park', 'Parc ou jardin'],
  ['car_park', 'Parc de stationnement'],
  ['heritage', 'Patrimoine, bâtiment'],
  ['sports', 'Équipement sportif'],
  ['dark_corridor', 'Trame noire'],
  ['other', 'Autre'],
]);

export const PRESENCE_KINDS = /** @type {const} */ ([
  ['pedestrian', 'Piéton'],
  ['cyclist', 'Cycliste'],
  ['vehicle', 'Véhicule'],
  ['unknown', 'Inconnu'],
]);

export const WEEKDAYS = ['lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche'];

/** @param {string} s */
export const isTimeExpr = (s) => TIME_EXPR_PATTERN.test(s);

/**
 * « coucher du soleil + 15 min », « 22:30 ».
 * @param {string} expr
 */
export function describeTimeExpr(expr) {
  const m = /^(dusk|dawn)(?:([+-])(\d{1,3}))?$/.exec(expr);
  if (!m) return expr;
  const base = m[1] === 'dusk' ? 'coucher du soleil' : 'lever du soleil';
  return m[2] ? `${base} ${m[2] === '+' ? '+' : '−'} ${Number(m[3])} min` : base;
}

/**
 * A deep copy of a plan (plain JSON), so the draft never shares objects with what was loaded.
 * @template T
 * @param {T} plan
 * @returns {T}
 */
export const clonePlan = (plan) => JSON.parse(JSON.stringify(plan));

/**
 * Same content, whatever the key order: tells whether the draft differs from the plan in force.
 * @param {unknown} a
 * @param {unknown} b
 */
export function samePlan(a, b) {
  return canonical(a) === canonical(b);
}

/** @param {unknown} v @returns {string} */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = /** @type {Record<string, unknown>} */ (v);
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Checks the browser can do before asking the server: each problem names the field in the
 * notation of the API's errors and compliance findings (`profiles.parc.schedule[1].to`).
 * The server validates everything again.
 * @param {any} plan
 * @returns {Array<{ field: string, message: string }>}
 */
export function draftProblems(plan) {
  /** @type {Array<{ field: string, message: string }>} */
  const out = [];
  const levelOk = (/** @type {unknown} */ v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100;
  const intIn = (/** @type {unknown} */ v, /** @type {number} */ max) => Number.isInteger(v) && /** @type {number} */ (v) >= 0 && /** @type {number} */ (v) <= max;
  for (const [name, profile] of Object.entries(plan.profiles ?? {})) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) out.push({ field: `profiles.${name}`, message: 'nom de profil : 1 à 64 caractères parmi A-Z a-z 0-9 _ . -' });
    /** @type {any[]} */
    const schedule = profile.schedule ?? [];
    schedule.forEach((slot, i) => {
      for (const end of /** @type {const} */ (['from', 'to'])) {
        if (!isTimeExpr(String(slot[end]))) {
          out.push({ field: `profiles.${name}.schedule[${i}].${end}`, message: 'heure attendue : HH:MM, dusk, dawn, dusk±N ou dawn±N' });
        }
      }
      if (!levelOk(slot.level)) out.push({ field: `profiles.${name}.schedule[${i}].level`, message: 'niveau : de 0 à 100 %' });
    });
    const p = profile.presence;
    if (p) {
      if (!levelOk(p.level)) out.push({ field: `profiles.${name}.presence.level`, message: 'niveau : de 0 à 100 %' });
      /** @type {Array<[string, number]>} */
      const limits = [['holdS', 86_400], ['rampUpMs', 600_000], ['rampDownS', 86_400], ['propagate', 20]];
      for (const [key, max] of limits) {
        if (!intIn(p[key], max)) out.push({ field: `profiles.${name}.presence.${key}`, message: `entier de 0 à ${max}` });
      }
      for (const [kind] of PRESENCE_KINDS) {
        const hops = p.propagateByKind?.[kind];
        if (hops !== undefined && !intIn(hops, 20)) out.push({ field: `profiles.${name}.presence.propagateByKind.${kind}`, message: 'entier de 0 à 20' });
      }
    }
  }
  const known = (/** @type {string} */ id) => Object.hasOwn(plan.profiles ?? {}, id);
  if (!known(plan.defaultProfile)) out.push({ field: 'defaultProfile', message: `profil inconnu « ${plan.defaultProfile} »` });
  for (const [zone, profile] of Object.entries(plan.zones ?? {})) {
    if (!known(String(profile))) out.push({ field: `zones.${zone}`, message: `profil inconnu « ${profile} »` });
  }
  (plan.calendar ?? []).forEach((/** @type {any} */ rule, /** @type {number} */ i) => {
    const entries = Object.entries(rule.profiles ?? {});
    if (entries.length === 0) out.push({ field: `calendar[${i}].profiles`, message: 'au moins un profil à remplacer' });
    for (const [from, to] of entries) {
      if (!known(from) || !known(String(to))) out.push({ field: `calendar[${i}].profiles.${from}`, message: `profil inconnu « ${known(from) ? to : from} »` });
    }
  });
  return out;
}

/**
 * A level typed in a form (`40`, `12.5`, `12,5`) to a number, or null when it is not one.
 * @param {string} text
 */
export function parseLevel(text) {
  const t = text.trim().replace(',', '.');
  return /^\d+(?:\.\d+)?$/.test(t) ? Number(t) : null;
}

/**
 * A form field to an integer, or null when it is not one (empty, decimal, text).
 * @param {string} text
 */
export function parseInteger(text) {
  const t = text.trim();
  return /^-?\d+$/.test(t) ? Number(t) : null;
}

// ---------------- calendar rules ----------------

/** @typedef {'weekdays' | 'dates' | 'range' | 'holidays'} WhenKind */

/**
 * @param {any} when
 * @returns {WhenKind}
 */
export function whenKind(when) {
  if (when.weekdays) return 'weekdays';
  if (when.dates) return 'dates';
  if (when.from !== undefined || when.to !== undefined) return 'range';
  return 'holidays';
}

/** A new condition of a kind, with a sensible first value. @param {WhenKind} kind */
export function defaultWhen(kind) {
  switch (kind) {
    case 'weekdays':
      return { weekdays: [5, 6] };
    case 'dates':
      return { dates: ['--07-14'] };
    case 'range':
      return { from: '--12-15', to: '--01-05' };
    case 'holidays':
      return { holidays: 'FR' };
  }
}

/**
 * `--12-08, 2026-07-14` → the list of dates as the calendar writes them.
 * @param {string} text
 */
export const parseDateList = (text) =>
  text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** @param {string} d `--MM-DD` or `YYYY-MM-DD` @param {boolean} [every] say « chaque » for `--MM-DD` */
function describeCalendarDate(d, every = true) {
  const m = /^(\d{4}|-)-(\d{2})-(\d{2})$/.exec(d);
  if (!m) return d;
  const months = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
  const day = Number(m[3]);
  const text = `${day === 1 ? '1er' : day} ${months[Number(m[2]) - 1] ?? m[2]}`;
  return m[1] === '-' ? (every ? `chaque ${text}` : text) : `${text} ${m[1]}`;
}

/**
 * The condition of a calendar rule in French: « vendredi, samedi », « jours fériés (FR) ».
 * @param {any} when
 */
export function describeWhen(when) {
  switch (whenKind(when)) {
    case 'weekdays':
      return /** @type {number[]} */ (when.weekdays).map((d) => WEEKDAYS[d - 1] ?? String(d)).join(', ');
    case 'dates':
      return /** @type {string[]} */ (when.dates).map((d) => describeCalendarDate(d)).join(', ');
    case 'range':
      return `du ${describeCalendarDate(when.from, false)} au ${describeCalendarDate(when.to, false)}${String(when.from).startsWith('--') ? ', chaque année' : ''}`;
    case 'holidays':
      return `jours fériés (${when.holidays})`;
  }
}

// ---------------- time in the town's time zone ----------------

/** @type {Map<string, Intl.DateTimeFormat>} */
const partFormats = new Map();

/**
 * Local date and time parts of `ts` at `timeZone`.
 * @param {number} ts
 * @param {string} timeZone
 */
function zonedParts(ts, timeZone) {
  let f = partFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partFormats.set(timeZone, f);
  }
  /** @type {Record<string, string>} */
  const p = {};
  for (const { type, value } of f.formatToParts(ts)) p[type] = value;
  return { y: p.year ?? '', mo: p.month ?? '', d: p.day ?? '', h: p.hour ?? '', mi: p.minute ?? '', s: p.second ?? '' };
}

/** `YYYY-MM-DD` at `timeZone`. @param {number} ts @param {string} timeZone */
export function localDateOf(ts, timeZone) {
  const p = zonedParts(ts, timeZone);
  return `${p.y}-${p.mo}-${p.d}`;
}

/** `HH:MM` at `timeZone`. @param {number} ts @param {string} timeZone */
export function formatHm(ts, timeZone) {
  const p = zonedParts(ts, timeZone);
  return `${p.h}:${p.mi}`;
}

/** The value of an `<input type=datetime-local>`: `YYYY-MM-DDTHH:MM` at `timeZone`. @param {number} ts @param {string} timeZone */
export function toLocalInput(ts, timeZone) {
  const p = zonedParts(ts, timeZone);
  return `${p.y}-${p.mo}-${p.d}T${p.h}:${p.mi}`;
}

/**
 * `YYYY-MM-DDTHH:MM` read as a wall-clock time at `timeZone` (the town's, not the browser's) → ms.
 * A time skipped by the spring change is read one hour later; a repeated one, as its first occurrence.
 * Null when the text is not such a time.
 * @param {string} text
 * @param {string} timeZone
 * @returns {number | null}
 */
export function fromLocalInput(text, timeZone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  if (!Number.isFinite(wall) || new Date(wall).getUTCDate() !== Number(m[3])) return null;
  /** Offset of `timeZone` from UTC at instant `t`, ms. @param {number} t */
  const offset = (t) => {
    const p = zonedParts(t, timeZone);
    return Date.UTC(Number(p.y), Number(p.mo) - 1, Number(p.d), Number(p.h), Number(p.mi), Number(p.s)) - t;
  };
  // The offsets a day either side cover a change of offset near the asked time, whatever the zone's offset.
  const candidates = [...new Set([offset(wall - 86_400_000), offset(wall + 86_400_000)])]
    .map((o) => wall - o)
    .filter((t) => toLocalInput(t, timeZone) === text)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return /** @type {number} */ (candidates[0]);
  // In the spring gap: read with the offset before the change, which lands one hour later, as the gateway does.
  return wall - offset(wall - 86_400_000);
}

// ---------------- the level curve ----------------

/**
 * Consecutive points of equal level merged: what the curve says in words.
 * @param {ReadonlyArray<{ t: number, level: number }>} points
 * @param {number} end the instant the last point's step ends
 * @returns {Array<{ from: number, to: number, level: number }>}
 */
export function curveSegments(points, end) {
  /** @type {Array<{ from: number, to: number, level: number }>} */
  const out = [];
  for (let i = 0; i < points.length; i++) {
    const p = /** @type {{ t: number, level: number }} */ (points[i]);
    // The point at the window's end (read just before it) has no stretch of its own.
    if (p.t >= end) break;
    const to = points[i + 1]?.t ?? end;
    const last = out[out.length - 1];
    if (last && last.level === p.level) last.to = to;
    else out.push({ from: p.t, to, level: p.level });
  }
  return out;
}

/**
 * The lit stretches of a curve in French: « 17:02–23:00 : 70 % ; 23:00–05:30 : 25 % ».
 * @param {ReadonlyArray<{ t: number, level: number }>} points
 * @param {number} end
 * @param {string} timeZone
 */
export function describeCurve(points, end, timeZone) {
  const lit = curveSegments(points, end).filter((s) => s.level > 0);
  if (lit.length === 0) return 'Éteint toute la nuit';
  return lit.map((s) => `${formatHm(s.from, timeZone)}–${formatHm(s.to, timeZone)} : ${s.level} %`).join(' ; ');
}

/**
 * What the SVG draws: a step line of the level over the window, dusk and dawn, a tick every 2 h.
 * @param {{ windowStart: number, windowEnd: number, dusk: number, dawn: number, points: ReadonlyArray<{ t: number, level: number }> }} curve
 * @param {string} timeZone
 * @param {{ width: number, height: number, left: number, right: number, top: number, bottom: number }} box
 */
export function curveGeometry(curve, timeZone, box) {
  const span = curve.windowEnd - curve.windowStart;
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const x = (/** @type {number} */ t) => round(box.left + ((t - curve.windowStart) / span) * plotW);
  const y = (/** @type {number} */ level) => round(box.top + (1 - level / 100) * plotH);
  let d = '';
  for (const s of curveSegments(curve.points, curve.windowEnd)) {
    d += `${d === '' ? 'M' : 'L'}${x(s.from)},${y(s.level)}H${x(s.to)}`;
  }
  /** @type {Array<{ x: number, label: string }>} */
  const ticks = [];
  for (const p of curve.points) {
    const hm = formatHm(p.t, timeZone);
    if (hm.endsWith(':00') && Number(hm.slice(0, 2)) % 2 === 0) ticks.push({ x: x(p.t), label: hm.slice(0, 2) + ' h' });
  }
  const levels = [0, 25, 50, 75, 100].map((level) => ({ y: y(level), label: `${level} %` }));
  return { path: d, duskX: x(curve.dusk), dawnX: x(curve.dawn), ticks, levels, plot: { x: box.left, y: box.top, width: plotW, height: plotH } };
}

/** @param {number} v */
const round = (v) => Math.round(v * 10) / 10;

// ---------------- rollout ----------------

/**
 * The rollout after a live `cabinet` event: that cabinet's published/acked versions and
 * whether it is at the version in force. Cabinets the rollout does not list are ignored (the
 * next GET /api/plan/rollout decides whether they belong to it).
 * @template {{ plan: { id: string, version: number } | null, cabinets: Array<{ cabinetId: string, online: boolean, published: any, acked: any, upToDate: boolean }> }} R
 * @param {R} rollout
 * @param {{ id: string, online: boolean, policyPublished: any, policyAcked: any }} cabinet
 * @returns {R & { total: number, acked: number, complete: boolean }}
 */
export function applyCabinetEvent(rollout, cabinet) {
  const plan = rollout.plan;
  const cabinets = rollout.cabinets.map((c) =>
    c.cabinetId !== cabinet.id
      ? c
      : {
          ...c,
          online: cabinet.online,
          published: cabinet.policyPublished,
          acked: cabinet.policyAcked,
          upToDate: plan !== null && cabinet.policyAcked?.id === plan.id && cabinet.policyAcked?.version === plan.version,
        },
  );
  const acked = cabinets.filter((c) => c.upToDate).length;
  return { ...rollout, cabinets, total: cabinets.length, acked, complete: plan !== null && acked === cabinets.length };
}

// ---------------- overrides ----------------

export const OVERRIDE_TARGETS = /** @type {const} */ ([
  ['lamp', 'Lampe'],
  ['group', 'Groupe'],
  ['cabinet', 'Armoire'],
  ['zone', 'Zone'],
  ['town', 'Toute la commune'],
]);

/** @param {{ type: string, id?: string }} target */
export function describeTarget(target) {
  if (target.type === 'town') return 'Toute la commune';
  const label = OVERRIDE_TARGETS.find(([t]) => t === target.type)?.[1] ?? target.type;
  return `${label} « ${target.id} »`;
}

/**
 * The override form → the body of POST /api/overrides, or the first problem with the field named.
 * @param {{ targetType: string, targetId: string, level: string, endMode: 'duration' | 'until', durationMin: string, until: string, reason: string }} form
 * @param {string} timeZone the town's: an end time is a wall-clock time there
 * @returns {{ ok: true, request: any } | { ok: false, field: string, message: string }}
 */
export function buildOverrideRequest(form, timeZone) {
  const type = form.targetType;
  if (!OVERRIDE_TARGETS.some(([t]) => t === type)) return { ok: false, field: 'target.type', message: 'cible inconnue' };
  const id = form.targetId.trim();
  if (type !== 'town' && !/^[A-Za-z0-9_.-]{1,64}$/.test(id)) {
    return { ok: false, field: 'target.id', message: 'identifiant de la cible : 1 à 64 caractères parmi A-Z a-z 0-9 _ . -' };
  }
  const level = parseLevel(form.level);
  if (level === null || level > 100) return { ok: false, field: 'level', message: 'niveau : de 0 à 100 %' };
  const reason = form.reason.trim();
  if (reason === '') return { ok: false, field: 'reason', message: 'indiquez le motif' };
  if (reason.length > 500) return { ok: false, field: 'reason', message: 'motif : 500 caractères au plus' };
  const target = type === 'town' ? { type } : { type, id };
  if (form.endMode === 'duration') {
    const minutes = parseInteger(form.durationMin);
    if (minutes === null || minutes < 1 || minutes > 7 * 24 * 60) return { ok: false, field: 'durationS', message: 'durée : de 1 minute à 7 jours' };
    return { ok: true, request: { target, level, durationS: minutes * 60, reason } };
  }
  const until = fromLocalInput(form.until, timeZone);
  if (until === null) return { ok: false, field: 'until', message: 'heure de fin attendue' };
  return { ok: true, request: { target, level, until, reason } };
}

/**
 * « appliquée (2/2 armoires) », « en cours (1/3) », « refusée par ARM-02 : expired ».
 * @param {{ cabinets: Array<{ cabinetId: string, state: string, error: string | null }> }} record
 */
export function describeDelivery(record) {
  const n = record.cabinets.length;
  const refused = record.cabinets.find((c) => c.state === 'refused');
  if (refused) return `refusée par ${refused.cabinetId}${refused.error ? ` : ${refused.error}` : ''}`;
  const applied = record.cabinets.filter((c) => c.state === 'applied').length;
  return applied === n ? `appliquée (${applied}/${n} armoire${n > 1 ? 's' : ''})` : `en cours (${applied}/${n} armoire${n > 1 ? 's' : ''})`;
}

// ---------------- compliance, what-if ----------------

/**
 * Errors first, then warnings; within each, by zone then rule.
 * @template {{ severity: 'error' | 'warning', zone: string, rule: string }} F
 * @param {readonly F[]} findings
 * @returns {F[]}
 */
export function sortFindings(findings) {
  const rank = (/** @type {F} */ f) => (f.severity === 'error' ? 0 : 1);
  return [...findings].sort((a, b) => rank(a) - rank(b) || a.zone.localeCompare(b.zone) || a.rule.localeCompare(b.rule));
}

/**
 * The what-if table: per night and in total, energy and share boosted, draft against current,
 * with the change in energy (negative: the draft saves).
 * @param {{ nights: Array<{ date: string, detections: number, draft: any, current: any }>, totals: { draft: any, current: any } }} result
 */
export function whatIfRows(result) {
  /** @param {string} date @param {number | null} detections @param {any} draft @param {any} current */
  const row = (date, detections, draft, current) => ({
    date,
    detections,
    draftKWh: draft.energyKWh,
    currentKWh: current ? current.energyKWh : null,
    deltaKWh: current ? draft.energyKWh - current.energyKWh : null,
    deltaRatio: current && current.energyKWh > 0 ? (draft.energyKWh - current.energyKWh) / current.energyKWh : null,
    savedVsFull: draft.fullPowerKWh > 0 ? 1 - draft.energyKWh / draft.fullPowerKWh : null,
    draftShare: draft.boostedShare,
    currentShare: current ? current.boostedShare : null,
  });
  const nights = result.nights.map((n) => row(n.date, n.detections, n.draft, n.current));
  const detections = result.nights.reduce((s, n) => s + n.detections, 0);
  return { nights, total: row('total', detections, result.totals.draft, result.totals.current) };
}
