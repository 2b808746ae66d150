// @ts-check
import { formatDateTime, formatRatio } from './format.js';
import { h, s } from './policies-dom.js';
import { curveGeometry, describeCurve, describeDelivery, describeTarget, formatHm, sortFindings, whatIfRows } from './policies-model.js';

/** What the editor shows of the API's answers: curve, findings, what-if, rollout, history, overrides. */

const CURVE_BOX = { width: 720, height: 260, left: 46, right: 12, top: 22, bottom: 30 };

const kwh = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });
const signedKwh = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1, signDisplay: 'exceptZero' });
const signedPercent = new Intl.NumberFormat('fr-FR', { style: 'percent', maximumFractionDigits: 0, signDisplay: 'exceptZero' });

/**
 * The night's level, the draft's line over the current one, dusk and dawn marked.
 * @param {SVGSVGElement} svg
 * @param {any} draft LevelCurve of the draft
 * @param {any | null} current LevelCurve of the plan in force, same profile and date (null: none)
 */
export function renderCurve(svg, draft, current) {
  const tz = draft.timezone;
  const g = curveGeometry(draft, tz, CURVE_BOX);
  /** @type {SVGElement[]} */
  const parts = [];
  // Night shading between dusk and dawn.
  parts.push(s('rect', { class: 'pol-night', x: g.duskX, y: g.plot.y, width: Math.max(0, g.dawnX - g.duskX), height: g.plot.height }));
  for (const l of g.levels) {
    parts.push(s('line', { class: 'pol-gridline', x1: g.plot.x, x2: g.plot.x + g.plot.width, y1: l.y, y2: l.y }));
    parts.push(s('text', { class: 'pol-axis', x: g.plot.x - 6, y: l.y + 4, 'text-anchor': 'end' }, l.label));
  }
  for (const t of g.ticks) {
    parts.push(s('line', { class: 'pol-tick', x1: t.x, x2: t.x, y1: g.plot.y + g.plot.height, y2: g.plot.y + g.plot.height + 5 }));
    parts.push(s('text', { class: 'pol-axis', x: t.x, y: CURVE_BOX.height - 8, 'text-anchor': 'middle' }, t.label));
  }
  for (const [x, label, cls] of /** @type {const} */ ([[g.duskX, `coucher ${formatHm(draft.dusk, tz)}`, 'dusk'], [g.dawnX, `lever ${formatHm(draft.dawn, tz)}`, 'dawn']])) {
    parts.push(s('line', { class: `pol-sun ${cls}`, x1: x, x2: x, y1: g.plot.y - 4, y2: g.plot.y + g.plot.height, 'data-testid': `curve-${cls}` }));
    parts.push(s('text', { class: 'pol-sun-label', x, y: 14, 'text-anchor': 'middle' }, label));
  }
  if (current) {
    const c = curveGeometry(current, tz, CURVE_BOX);
    parts.push(s('path', { class: 'pol-line current', d: c.path, 'data-testid': 'curve-current' }));
  }
  parts.push(s('path', { class: 'pol-line draft', d: g.path, 'data-testid': 'curve-draft' }));
  svg.replaceChildren(s('desc', {}, `Niveau du profil ${draft.profile} la nuit du ${draft.date}, de midi à midi.`), ...parts);
}

/** @param {any} curve */
export const curveText = (curve) => describeCurve(curve.points, curve.windowEnd, curve.timezone);

/**
 * @param {HTMLElement} summary
 * @param {HTMLUListElement} list
 * @param {any[]} findings
 * @param {string} [context] a lead-in, as "Publication refusée :"
 */
export function renderFindings(summary, list, findings, context) {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  const counts =
    findings.length === 0
      ? 'Conforme : aucune erreur ni avertissement.'
      : `${errors} erreur${errors > 1 ? 's' : ''}, ${warnings} avertissement${warnings > 1 ? 's' : ''}.`;
  summary.textContent = context ? `${context} ${counts}` : counts;
  summary.dataset.errors = String(errors);
  list.replaceChildren(
    ...sortFindings(findings).map((f) =>
      h(
        'li',
        { class: `pol-finding ${f.severity}`, 'data-testid': 'finding', 'data-severity': f.severity, 'data-rule': f.rule },
        h('span', { class: 'pol-severity' }, f.severity === 'error' ? 'Erreur' : 'Avertissement'),
        h('p', { class: 'pol-message' }, f.message),
        h(
          'p',
          { class: 'pol-meta' },
          'Règle ',
          h('code', {}, f.rule),
          ' — à modifier : ',
          h('code', {}, f.field),
          f.nights ? ` — ${f.nights} nuit${f.nights > 1 ? 's' : ''}, dès le ${f.firstNight}` : '',
        ),
      ),
    ),
  );
}

/**
 * @param {HTMLElement} summary
 * @param {HTMLTableElement} table
 * @param {any} result POST /api/plan/what-if
 */
export function renderWhatIf(summary, table, result) {
  const { nights, total } = whatIfRows(result);
  const cells = (/** @type {ReturnType<typeof whatIfRows>['total']} */ r) => [
    h('td', { class: 'num' }, String(r.detections)),
    h('td', { class: 'num' }, `${kwh.format(r.draftKWh)} kWh`),
    h('td', { class: 'num' }, r.currentKWh === null ? '—' : `${kwh.format(r.currentKWh)} kWh`),
    h('td', { class: 'num' }, r.deltaKWh === null ? '—' : `${signedKwh.format(r.deltaKWh)} kWh (${r.deltaRatio === null ? '—' : signedPercent.format(r.deltaRatio)})`),
    h('td', { class: 'num' }, formatRatio(r.draftShare)),
    h('td', { class: 'num' }, formatRatio(r.currentShare)),
  ];
  const body = /** @type {HTMLElement} */ (table.querySelector('tbody'));
  const foot = /** @type {HTMLElement} */ (table.querySelector('tfoot'));
  body.replaceChildren(...nights.map((r) => h('tr', { 'data-testid': 'whatif-night' }, h('th', { scope: 'row' }, r.date), ...cells(r))));
  foot.replaceChildren(h('tr', { 'data-testid': 'whatif-total' }, h('th', { scope: 'row' }, '7 nuits'), ...cells(total)));
  table.hidden = false;
  const presence = result.presence === 'recorded' ? '' : ' Détections non disponibles dans ce stockage : énergie seule.';
  const vs = result.current ? `la version ${result.current.version} en vigueur` : 'aucune politique en vigueur';
  summary.textContent =
    `${result.lamps} lampes. Brouillon : ${kwh.format(total.draftKWh)} kWh sur 7 nuits` +
    (total.currentKWh === null ? '' : `, contre ${kwh.format(total.currentKWh)} kWh avec ${vs}`) +
    (total.savedVsFull === null ? '' : ` ; ${formatRatio(total.savedVsFull)} d’économie par rapport à la pleine puissance`) +
    `.${presence}`;
}

/**
 * @param {HTMLElement} summary
 * @param {HTMLProgressElement} progress
 * @param {HTMLTableSectionElement} tbody
 * @param {any} rollout
 */
export function renderRollout(summary, progress, tbody, rollout) {
  const ref = (/** @type {any} */ p) => (p ? `${p.id} v${p.version}` : '—');
  progress.max = Math.max(1, rollout.total);
  progress.value = rollout.acked;
  summary.dataset.complete = String(rollout.complete);
  summary.dataset.version = rollout.plan ? String(rollout.plan.version) : '';
  summary.textContent = rollout.plan
    ? `Version ${rollout.plan.version} : ${rollout.acked} armoire${rollout.acked > 1 ? 's' : ''} sur ${rollout.total} l’appliquent${rollout.complete ? ' — déploiement terminé.' : '.'}`
    : 'Aucune politique publiée.';
  tbody.replaceChildren(
    ...rollout.cabinets.map((/** @type {any} */ c) =>
      h(
        'tr',
        { 'data-testid': 'rollout-row', 'data-cabinet': c.cabinetId, 'data-up-to-date': String(c.upToDate) },
        h('th', { scope: 'row' }, c.cabinetId),
        h('td', {}, h('span', { class: `pill ${c.online ? 'ok' : 'bad'}` }, c.online ? 'en ligne' : 'hors ligne')),
        h('td', {}, ref(c.published)),
        h('td', {}, ref(c.acked)),
        h('td', {}, h('span', { class: `pill ${c.upToDate ? 'ok' : 'wait'}` }, c.upToDate ? 'à jour' : 'en attente')),
      ),
    ),
  );
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {any[]} versions GET /api/plan/versions, newest first
 * @param {string} timeZone
 * @param {{ show: (v: number) => void, load: (v: number) => void, rollback: (v: number) => void }} actions
 */
export function renderVersions(tbody, versions, timeZone, actions) {
  tbody.replaceChildren(
    ...versions.map((v) =>
      h(
        'tr',
        { 'data-testid': 'version-row', 'data-version': v.version },
        h('th', { scope: 'row' }, `v${v.version}`, v.current ? h('span', { class: 'pill ok' }, ' en vigueur') : null),
        h('td', {}, formatDateTime(v.createdAt, timeZone)),
        h('td', {}, v.author),
        h('td', {}, v.diff.summary, v.note ? h('span', { class: 'hint' }, ` (${v.note})`) : null),
        h(
          'td',
          { class: 'pol-row-actions' },
          h('button', { type: 'button', class: 'secondary', onclick: () => actions.show(v.version) }, 'Voir'),
          h('button', { type: 'button', class: 'secondary', 'data-needs': 'PUT /api/plan', onclick: () => actions.load(v.version) }, 'Charger'),
          v.current ? null : h('button', { type: 'button', class: 'secondary', 'data-testid': 'rollback', 'data-needs': 'POST /api/plan/rollback', onclick: () => actions.rollback(v.version) }, 'Revenir à cette version'),
        ),
      ),
    ),
  );
}

/** @param {unknown} v */
const show = (v) => (v === undefined ? '' : JSON.stringify(v));

/**
 * @param {HTMLElement} box
 * @param {any} detail GET /api/plan/versions/:v
 * @param {string} timeZone
 */
export function renderVersionDetail(box, detail, timeZone) {
  const kinds = { added: 'ajout', removed: 'suppression', changed: 'modification' };
  box.hidden = false;
  box.replaceChildren(
    h('h3', {}, `Version ${detail.version} — ${detail.author}, ${formatDateTime(detail.createdAt, timeZone)}`),
    h('p', {}, detail.previous ? `Par rapport à la version ${detail.previous} : ${detail.diff.summary}` : `Première version : ${detail.diff.summary}`),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Changement'), h('th', { scope: 'col' }, 'Champ'), h('th', { scope: 'col' }, 'Avant'), h('th', { scope: 'col' }, 'Après'))),
      h(
        'tbody',
        {},
        ...detail.diff.changes.map((/** @type {any} */ c) =>
          h('tr', { class: `pol-change ${c.kind}` }, h('td', {}, kinds[/** @type {'added'} */ (c.kind)] ?? c.kind), h('td', {}, h('code', {}, c.path)), h('td', {}, h('code', {}, show(c.before))), h('td', {}, h('code', {}, show(c.after)))),
        ),
      ),
    ),
  );
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {any[]} overrides GET /api/overrides
 * @param {string} timeZone
 * @param {(id: string) => void} clear
 */
export function renderOverrides(tbody, overrides, timeZone, clear) {
  if (overrides.length === 0) {
    tbody.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'hint' }, 'Aucun forçage en cours.')));
    return;
  }
  tbody.replaceChildren(
    ...overrides.map((o) =>
      h(
        'tr',
        { 'data-testid': 'override-row', 'data-override': o.id },
        h('th', { scope: 'row' }, describeTarget(o.target), h('span', { class: 'hint' }, ` (${o.lampCount} lampe${o.lampCount > 1 ? 's' : ''})`)),
        h('td', { class: 'num' }, `${o.level} %`),
        h('td', {}, o.actor),
        h('td', {}, formatDateTime(o.createdAt, timeZone)),
        h('td', {}, formatDateTime(o.until, timeZone)),
        h('td', {}, o.reason),
        h('td', {}, describeDelivery(o)),
        h('td', {}, h('button', { type: 'button', class: 'secondary', 'data-testid': 'override-clear', 'data-needs': 'DELETE /api/overrides/{id}', onclick: () => clear(o.id) }, 'Terminer')),
      ),
    ),
  );
}
