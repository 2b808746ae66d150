// @ts-check
import { fillSelect, h } from './policies-dom.js';
import {
  PRESENCE_KINDS,
  WEEKDAYS,
  ZONE_CATEGORIES,
  defaultWhen,
  describeTimeExpr,
  describeWhen,
  isTimeExpr,
  parseDateList,
  parseInteger,
  parseLevel,
  whenKind,
} from './policies-model.js';

/**
 * The draft's editors: zones' profiles, a profile's slots and presence settings, the calendar.
 * Each edits the draft plan in place and calls `changed`: `structural` when rows were added,
 * removed or moved (the editor is drawn again), not for a value typed in a field (drawing
 * again would take the focus away).
 *
 * @typedef {{ draft: any, changed: (structural: boolean) => void }} EditorContext
 */

/** Presence settings of a profile that had none, as the demo's residential streets. */
const DEFAULT_PRESENCE = { level: 70, holdS: 90, rampUpMs: 300, rampDownS: 20, propagate: 2 };

/** @param {any} draft @returns {Array<[string, string]>} */
const profileOptions = (draft) => Object.keys(draft.profiles).sort().map((p) => [p, p]);

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {any[]} zones GET /api/zones
 * @param {EditorContext} ctx
 * @param {(zone: any) => void} onEdit opens the zone's metadata form
 */
export function renderZones(tbody, zones, ctx, onEdit) {
  const { draft } = ctx;
  tbody.replaceChildren(
    ...zones.map((zone) => {
      const select = /** @type {HTMLSelectElement} */ (h('select', { 'aria-label': `Profil de la zone ${zone.label}`, 'data-testid': 'zone-profile' }));
      const own = Object.hasOwn(draft.zones, zone.name) ? String(draft.zones[zone.name]) : '';
      fillSelect(select, [['', `par défaut (${draft.defaultProfile})`], ...profileOptions(draft)], own);
      select.addEventListener('change', () => {
        if (select.value === '') delete draft.zones[zone.name];
        else draft.zones[zone.name] = select.value;
        ctx.changed(false);
      });
      const category = ZONE_CATEGORIES.find(([c]) => c === zone.category)?.[1] ?? zone.category;
      return h(
        'tr',
        { 'data-testid': 'zone-row', 'data-zone': zone.name },
        h('th', { scope: 'row' }, zone.label, zone.label !== zone.name ? h('span', { class: 'pol-id' }, ` ${zone.name}`) : null),
        h('td', {}, category, zone.described ? null : h('span', { class: 'hint' }, ' (non décrite)')),
        h('td', { class: 'num' }, String(zone.lamps)),
        h('td', { class: 'num', title: zone.cabinets.join(', ') }, String(zone.cabinets.length)),
        h('td', {}, select),
        h('td', {}, h('button', { type: 'button', class: 'secondary', 'data-needs': 'PUT /api/zones/{zone}', onclick: () => onEdit(zone) }, 'Décrire')),
      );
    }),
  );
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {string} profileName
 * @param {EditorContext} ctx
 */
export function renderSlots(tbody, profileName, ctx) {
  const profile = ctx.draft.profiles[profileName];
  if (!profile) {
    tbody.replaceChildren();
    return;
  }
  /** @type {any[]} */
  const schedule = profile.schedule;
  const move = (/** @type {number} */ i, /** @type {number} */ by) => {
    const j = i + by;
    if (j < 0 || j >= schedule.length) return;
    [schedule[i], schedule[j]] = [schedule[j], schedule[i]];
    ctx.changed(true);
  };
  tbody.replaceChildren(
    ...schedule.map((slot, i) => {
      const n = i + 1;
      const timeInput = (/** @type {'from' | 'to'} */ end) => {
        const input = /** @type {HTMLInputElement} */ (
          h('input', { value: slot[end], size: 9, spellcheck: 'false', 'aria-label': `Créneau ${n} : ${end === 'from' ? 'début' : 'fin'}`, 'data-testid': `slot-${end}` })
        );
        const hint = h('span', { class: 'pol-hint' }, describeTimeExpr(slot[end]));
        input.addEventListener('input', () => {
          slot[end] = input.value.trim();
          const ok = isTimeExpr(slot[end]);
          input.setAttribute('aria-invalid', String(!ok));
          hint.textContent = ok ? describeTimeExpr(slot[end]) : 'HH:MM, dusk±N ou dawn±N';
          ctx.changed(false);
        });
        return h('td', {}, input, hint);
      };
      const level = /** @type {HTMLInputElement} */ (
        h('input', { type: 'number', min: 0, max: 100, step: 'any', value: slot.level, 'aria-label': `Créneau ${n} : niveau en %`, 'data-testid': 'slot-level' })
      );
      level.addEventListener('input', () => {
        const v = parseLevel(level.value);
        slot.level = v ?? level.value;
        level.setAttribute('aria-invalid', String(v === null || v > 100));
        ctx.changed(false);
      });
      return h(
        'tr',
        { 'data-testid': 'slot-row' },
        h('th', { scope: 'row' }, String(n)),
        timeInput('from'),
        timeInput('to'),
        h('td', {}, level),
        h(
          'td',
          { class: 'pol-row-actions' },
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Monter le créneau ${n}`, disabled: i === 0, onclick: () => move(i, -1) }, '↑'),
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Descendre le créneau ${n}`, disabled: i === schedule.length - 1, onclick: () => move(i, 1) }, '↓'),
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Supprimer le créneau ${n}`, onclick: () => { schedule.splice(i, 1); ctx.changed(true); } }, '✕'),
        ),
      );
    }),
  );
}

/**
 * @param {HTMLFieldSetElement} fieldset
 * @param {string} profileName
 * @param {EditorContext} ctx
 */
export function renderPresence(fieldset, profileName, ctx) {
  const profile = ctx.draft.profiles[profileName];
  const on = /** @type {HTMLInputElement} */ (fieldset.querySelector('#presence-on'));
  const byKind = /** @type {HTMLElement} */ (fieldset.querySelector('#propagate-by-kind'));
  const p = profile?.presence;
  on.checked = Boolean(p);
  on.onchange = () => {
    if (!profile) return;
    if (on.checked) profile.presence = { ...DEFAULT_PRESENCE };
    else delete profile.presence;
    ctx.changed(true);
  };
  for (const input of /** @type {NodeListOf<HTMLInputElement>} */ (fieldset.querySelectorAll('.pol-fields:not(#propagate-by-kind) input'))) {
    input.disabled = !p;
    input.value = p ? String(p[input.name]) : '';
    input.oninput = () => {
      if (!profile?.presence) return;
      profile.presence[input.name] = (input.name === 'level' ? parseLevel(input.value) : parseInteger(input.value)) ?? input.value;
      ctx.changed(false);
    };
  }
  byKind.replaceChildren(
    ...PRESENCE_KINDS.map(([kind, label]) => {
      const input = /** @type {HTMLInputElement} */ (
        h('input', { type: 'number', min: 0, max: 20, step: 1, name: kind, disabled: !p, value: p?.propagateByKind?.[kind] ?? '', 'data-testid': `propagate-${kind}` })
      );
      input.addEventListener('input', () => {
        const presence = profile?.presence;
        if (!presence) return;
        const by = { ...(presence.propagateByKind ?? {}) };
        if (input.value.trim() === '') delete by[kind];
        else by[kind] = parseInteger(input.value) ?? input.value;
        if (Object.keys(by).length === 0) delete presence.propagateByKind;
        else presence.propagateByKind = by;
        ctx.changed(false);
      });
      return h('label', {}, `${label} `, input);
    }),
  );
}

/**
 * @param {HTMLOListElement} list
 * @param {EditorContext} ctx
 */
export function renderCalendar(list, ctx) {
  const { draft } = ctx;
  /** @type {any[]} */
  const rules = draft.calendar ?? [];
  if (rules.length === 0) {
    list.replaceChildren(h('li', { class: 'hint pol-empty' }, 'Aucune règle : chaque lampe suit son profil toutes les nuits.'));
    return;
  }
  const move = (/** @type {number} */ i, /** @type {number} */ by) => {
    const j = i + by;
    if (j < 0 || j >= rules.length) return;
    [rules[i], rules[j]] = [rules[j], rules[i]];
    ctx.changed(true);
  };
  list.replaceChildren(
    ...rules.map((rule, i) => {
      const n = i + 1;
      const name = /** @type {HTMLInputElement} */ (h('input', { value: rule.name ?? '', maxlength: 128, 'aria-label': `Règle ${n} : nom` }));
      name.addEventListener('input', () => {
        if (name.value.trim() === '') delete rule.name;
        else rule.name = name.value;
        ctx.changed(false);
      });
      const kind = /** @type {HTMLSelectElement} */ (h('select', { 'aria-label': `Règle ${n} : condition` }));
      fillSelect(kind, [['weekdays', 'Jours de la semaine'], ['dates', 'Dates'], ['range', 'Période'], ['holidays', 'Jours fériés']], whenKind(rule.when));
      kind.addEventListener('change', () => {
        rule.when = defaultWhen(/** @type {any} */ (kind.value));
        ctx.changed(true);
      });
      const summary = h('p', { class: 'hint' }, describeWhen(rule.when));
      const whenChanged = () => {
        summary.textContent = describeWhen(rule.when);
        ctx.changed(false);
      };
      return h(
        'li',
        { 'data-testid': 'calendar-rule' },
        h(
          'div',
          { class: 'pol-inline' },
          h('label', {}, `Règle ${n} `, name),
          kind,
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Monter la règle ${n}`, disabled: i === 0, onclick: () => move(i, -1) }, '↑'),
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Descendre la règle ${n}`, disabled: i === rules.length - 1, onclick: () => move(i, 1) }, '↓'),
          h('button', { type: 'button', class: 'secondary', 'aria-label': `Supprimer la règle ${n}`, onclick: () => { rules.splice(i, 1); if (rules.length === 0) delete draft.calendar; ctx.changed(true); } }, '✕'),
        ),
        whenEditor(rule, n, whenChanged),
        summary,
        mappingEditor(rule, n, ctx),
      );
    }),
  );
}

/**
 * @param {any} rule
 * @param {number} n
 * @param {() => void} changed
 */
function whenEditor(rule, n, changed) {
  const when = rule.when;
  switch (whenKind(when)) {
    case 'weekdays':
      return h(
        'fieldset',
        { class: 'pol-weekdays' },
        h('legend', {}, `Règle ${n} : nuits du`),
        ...WEEKDAYS.map((day, k) => {
          const box = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', checked: when.weekdays.includes(k + 1) }));
          box.addEventListener('change', () => {
            const set = new Set(when.weekdays);
            if (box.checked) set.add(k + 1);
            else set.delete(k + 1);
            when.weekdays = [...set].sort();
            changed();
          });
          return h('label', {}, box, ` ${day}`);
        }),
      );
    case 'dates': {
      const input = /** @type {HTMLInputElement} */ (h('input', { value: when.dates.join(', '), size: 40, 'aria-label': `Règle ${n} : dates (--MM-JJ chaque année, AAAA-MM-JJ une fois)` }));
      input.addEventListener('input', () => {
        when.dates = parseDateList(input.value);
        changed();
      });
      return h('label', { class: 'pol-inline' }, 'Dates ', input, h('span', { class: 'hint' }, ' --MM-JJ chaque année, AAAA-MM-JJ une fois'));
    }
    case 'range': {
      const end = (/** @type {'from' | 'to'} */ k) => {
        const input = /** @type {HTMLInputElement} */ (h('input', { value: when[k], size: 11, 'aria-label': `Règle ${n} : ${k === 'from' ? 'premier' : 'dernier'} jour` }));
        input.addEventListener('input', () => {
          when[k] = input.value.trim();
          changed();
        });
        return input;
      };
      return h('div', { class: 'pol-inline' }, 'Du ', end('from'), ' au ', end('to'), h('span', { class: 'hint' }, ' inclus ; --MM-JJ ou AAAA-MM-JJ'));
    }
    case 'holidays': {
      const select = /** @type {HTMLSelectElement} */ (h('select', { 'aria-label': `Règle ${n} : jours fériés` }));
      fillSelect(select, [['FR', 'France'], ['FR-57', 'Moselle'], ['FR-67', 'Bas-Rhin'], ['FR-68', 'Haut-Rhin']], when.holidays);
      select.addEventListener('change', () => {
        when.holidays = select.value;
        changed();
      });
      return h('label', { class: 'pol-inline' }, 'Jours fériés de ', select);
    }
  }
}

/**
 * The rule's profile → replacement rows.
 * @param {any} rule
 * @param {number} n
 * @param {EditorContext} ctx
 */
function mappingEditor(rule, n, ctx) {
  const options = profileOptions(ctx.draft);
  const rows = Object.entries(rule.profiles).map(([from, to], k) => {
    const fromSel = /** @type {HTMLSelectElement} */ (h('select', { 'aria-label': `Règle ${n}, remplacement ${k + 1} : profil remplacé` }));
    const toSel = /** @type {HTMLSelectElement} */ (h('select', { 'aria-label': `Règle ${n}, remplacement ${k + 1} : profil suivi` }));
    fillSelect(fromSel, options, from);
    fillSelect(toSel, options, String(to));
    const rebuild = () => {
      /** @type {Record<string, string>} */
      const next = {};
      for (const [f, t] of Object.entries(rule.profiles)) {
        if (f === from) next[fromSel.value] = toSel.value;
        else if (f !== fromSel.value) next[f] = String(t);
      }
      rule.profiles = next;
      ctx.changed(true);
    };
    fromSel.addEventListener('change', rebuild);
    toSel.addEventListener('change', rebuild);
    return h(
      'li',
      {},
      fromSel,
      ' → ',
      toSel,
      h('button', { type: 'button', class: 'secondary', 'aria-label': `Retirer le remplacement ${k + 1} de la règle ${n}`, onclick: () => { delete rule.profiles[from]; ctx.changed(true); } }, '✕'),
    );
  });
  const unused = options.find(([p]) => !Object.hasOwn(rule.profiles, p));
  return h(
    'div',
    {},
    h('ul', { class: 'pol-mapping' }, ...rows),
    unused
      ? h('button', { type: 'button', class: 'secondary', onclick: () => { rule.profiles[unused[0]] = unused[0]; ctx.changed(true); } }, 'Ajouter un remplacement')
      : null,
  );
}
