// @ts-check
import { formatDateTime, formatInteger, formatKwh, formatNightDate, formatRatio, savedRatio } from './format.js';

const MODES = /** @type {Record<string, string>} */ ({ policy: 'Politique', failsafe: 'Secours', override: 'Forçage manuel' });
const SEVERITIES = /** @type {Record<string, string>} */ ({ critical: 'critique', major: 'majeure', minor: 'mineure' });
const SEVERITY_RANK = /** @type {Record<string, number>} */ ({ critical: 0, major: 1, minor: 2 });
const ALERT_KINDS = /** @type {Record<string, string>} */ ({
  cabinet_offline: 'Armoire hors ligne',
  lamp_fault: 'Lampe en défaut',
  lamp_failure: 'Lampe en panne',
  driver_failure: 'Driver en panne',
  overheat: 'Surchauffe',
  low_voltage: 'Tension basse',
  comm_failure: 'Communication perdue',
  door_open: 'Porte d’armoire ouverte',
  power_cut: 'Coupure d’alimentation',
  policy_rejected: 'Politique refusée',
  policy_not_applied: 'Politique non appliquée',
  buffer_overflow: 'Mémoire tampon saturée',
  clock_unsynced: 'Horloge non synchronisée',
  telemetry_missing: 'Télémesure absente',
  energy_anomaly: 'Consommation anormale',
});

/**
 * @param {string} tag
 * @param {string | null} [text]
 * @param {Record<string, string>} [attrs]
 */
function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** @param {{ id: string, version: number } | null} ref */
const policyText = (ref) => (ref ? `${ref.id} v${ref.version}` : '—');

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {any[]} cabinets
 * @param {string} timeZone
 */
export function renderCabinets(tbody, cabinets, timeZone) {
  const rows = [...cabinets]
    .sort((a, b) => a.id.localeCompare(b.id, 'fr'))
    .map((c) => {
      const tr = el('tr', null, { 'data-testid': 'cabinet-row', 'data-id': c.id });
      tr.append(el('th', c.id, { scope: 'row' }));
      const state = el('td');
      state.append(el('span', c.online ? 'en ligne' : 'hors ligne', { class: c.online ? 'pill ok' : 'pill bad' }));
      tr.append(state);
      tr.append(el('td', c.mode ? (MODES[c.mode] ?? c.mode) : '—'));
      const applied = policyText(c.policy);
      const published = policyText(c.policyPublished);
      const behind =
        c.policyPublished !== null &&
        (c.policy === null || c.policy.id !== c.policyPublished.id || c.policy.version !== c.policyPublished.version);
      const policy = el('td', `${applied} / ${published}`);
      if (behind) {
        policy.classList.add('warn');
        policy.title = 'La politique appliquée n’est pas la dernière publiée';
      }
      tr.append(policy);
      tr.append(el('td', formatInteger(c.lamps), { class: 'num' }));
      tr.append(el('td', formatDateTime(c.lastSeen, timeZone)));
      return tr;
    });
  if (rows.length === 0) {
    const tr = el('tr');
    tr.append(el('td', 'Aucune armoire', { colspan: '6' }));
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
}

/**
 * @param {HTMLElement} card the « cette nuit » card
 * @param {HTMLTableSectionElement} tbody previous nights
 * @param {any} summary EnergySummary
 */
export function renderEnergy(card, tbody, summary) {
  /** @type {any[]} */
  const nights = summary.nights;
  const tonight = nights.find((n) => n.inProgress) ?? null;
  const previous = nights.filter((n) => n !== tonight).sort((a, b) => b.date.localeCompare(a.date));

  const value = /** @param {string} name */ (name) => /** @type {HTMLElement} */ (card.querySelector(`[data-field="${name}"]`));
  if (tonight) {
    value('date').textContent = `Nuit du ${formatNightDate(tonight.date)} (en cours)`;
    value('energy').textContent = formatKwh(tonight.energyWh);
    value('full').textContent = formatKwh(tonight.fullPowerWh);
    value('saved').textContent = formatRatio(savedRatio(tonight));
    value('completeness').textContent = formatRatio(tonight.completeness);
  } else {
    value('date').textContent = 'Pas de nuit en cours';
    for (const f of ['energy', 'full', 'saved', 'completeness']) value(f).textContent = '—';
  }

  const rows = previous.map((n) => {
    const tr = el('tr', null, { 'data-testid': 'energy-night' });
    tr.append(el('th', formatNightDate(n.date), { scope: 'row' }));
    const noData = n.completeness === 0;
    tr.append(el('td', noData ? 'aucune donnée' : formatKwh(n.energyWh), { class: 'num' }));
    tr.append(el('td', formatKwh(n.fullPowerWh), { class: 'num' }));
    tr.append(el('td', noData ? '—' : `${formatKwh(n.savedWh)} (${formatRatio(savedRatio(n))})`, { class: 'num' }));
    tr.append(el('td', formatRatio(n.completeness), { class: 'num' }));
    return tr;
  });
  if (rows.length === 0) {
    const tr = el('tr');
    tr.append(el('td', 'Pas encore de nuit complète', { colspan: '5' }));
    rows.push(tr);
  }
  tbody.replaceChildren(...rows);
}

/**
 * @param {HTMLElement} list
 * @param {any[]} alerts
 * @param {string} timeZone
 */
export function renderAlerts(list, alerts, timeZone) {
  const open = alerts
    .filter((a) => a.state !== 'resolved')
    .sort((a, b) => (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || b.lastSeen - a.lastSeen);
  if (open.length === 0) {
    list.replaceChildren(el('li', 'Aucune alerte ouverte', { class: 'empty' }));
    return;
  }
  list.replaceChildren(
    ...open.map((a) => {
      const li = el('li', null, { 'data-testid': 'alert', 'data-id': a.id, class: `alert ${a.severity}` });
      li.append(el('span', SEVERITIES[a.severity] ?? a.severity, { class: 'severity' }));
      const what = el('span', null, { class: 'what' });
      what.append(el('strong', ALERT_KINDS[a.kind] ?? a.kind));
      const where = a.lampId ? `armoire ${a.cabinetId}, lampe ${a.lampId}` : `armoire ${a.cabinetId}`;
      what.append(document.createTextNode(` — ${where}${a.detail ? ` : ${a.detail}` : ''}`));
      li.append(what);
      const since = `depuis ${formatDateTime(a.openedAt, timeZone)}${a.count > 1 ? ` (${formatInteger(a.count)} fois)` : ''}`;
      li.append(el('span', since, { class: 'since' }));
      if (a.state === 'acknowledged') li.append(el('span', 'prise en compte', { class: 'ack' }));
      return li;
    }),
  );
}
