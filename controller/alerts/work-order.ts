import type { LampRecord } from '../inventory-schema.js';
import type { AlertView } from '../views.js';
import { byFr, frDateTime, watts } from './alert-text.js';
import { ACTION_FR, kindFr, SEVERITY_FR, STATE_FR } from './labels.js';

export interface WorkOrderInput {
  alert: AlertView;
  /** The alert's lamp from the inventory (null for a cabinet alert, or a lamp since removed). */
  lamp: LampRecord | null;
  /** The cabinet's position when known. */
  cabinet: { id: string; lat: number | null; lon: number | null } | null;
  town: string;
  timeZone: string;
  /** When the order is printed, controller clock. */
  now: number;
}

/** Same-origin stylesheet of the printed order (the CSP allows no inline style). */
export const WORK_ORDER_CSS = '/ui/maintenance-print.css';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const when = frDateTime;

function coords(lat: number, lon: number): string {
  return `${lat.toFixed(6)}, ${lon.toFixed(6)}`;
}

function row(label: string, value: string, testId?: string): string {
  return `<tr><th scope="row">${esc(label)}</th><td${testId ? ` data-testid="${testId}"` : ''}>${esc(value)}</td></tr>`;
}

/**
 * A crew's work order for one alert, a standalone French HTML page to print: where (lamp,
 * coordinates, cabinet), what (fault, evidence, history) and blanks for the crew to fill in.
 * Every value is escaped: ids and details come from gateways.
 */
export function workOrderHtml(i: WorkOrderInput): string {
  const a = i.alert;
  const tz = i.timeZone;
  const title = `Bon d'intervention — ${kindFr(a.kind)} — ${a.lampId ?? a.subject ?? a.cabinetId}`;
  const where: string[] = [];
  if (a.lampId) where.push(row('Lampe', a.lampId, 'wo-lamp'));
  if (i.lamp) {
    where.push(row('Coordonnées (WGS84)', coords(i.lamp.lat, i.lamp.lon), 'wo-coords'));
    where.push(row('Zone', i.lamp.zone));
    where.push(row('Puissance nominale', watts(i.lamp.nominalPowerW)));
    if (i.lamp.lampType) where.push(row('Technologie', i.lamp.lampType));
  }
  if (a.subject) where.push(row('Capteur', a.subject));
  where.push(row('Armoire', a.cabinetId, 'wo-cabinet'));
  if (i.cabinet && i.cabinet.lat !== null && i.cabinet.lon !== null) where.push(row("Coordonnées de l'armoire", coords(i.cabinet.lat, i.cabinet.lon)));

  const what = [
    row('Défaut', kindFr(a.kind), 'wo-kind'),
    row('Gravité', SEVERITY_FR[a.severity]),
    row('État', STATE_FR[a.state]),
    row('Constat', a.detail),
    row('Ouverte le', when(a.openedAt, tz)),
    row('Dernière observation', `${when(a.lastSeen, tz)} (${a.count} fois)`),
  ];
  if (a.acknowledgedBy) what.push(row('Prise en charge', `${byFr(a.acknowledgedBy)}, ${when(a.acknowledgedAt, tz)}`));
  if (a.resolvedBy) what.push(row('Résolue', `${byFr(a.resolvedBy)}, ${when(a.resolvedAt, tz)}${a.note ? ` — ${a.note}` : ''}`));

  const ev = a.evidence;
  const evidence = ev
    ? `<table class="kv">${row('Règle', ev.rule)}${row('Attendu', ev.expected)}${row('Mesuré', ev.measured)}${row(
        'Période',
        `du ${when(ev.window.from, tz)} au ${when(ev.window.to, tz)}`,
      )}</table>`
    : '<p>Pas de mesure jointe à cette alerte.</p>';

  const folded = a.folded?.length
    ? `<section><h2>Lampes concernées (${a.folded.length})</h2><p class="folded">${a.folded
        .map((f) => esc(`${f.lampId ?? a.cabinetId} : ${kindFr(f.kind)}`))
        .join(' ; ')}</p></section>`
    : '';
  const history = (a.history ?? [])
    .map((h) => `<li>${esc(`${when(h.at, tz)} — ${ACTION_FR[h.action] ?? h.action} par ${byFr(h.by)}${h.note ? ` : ${h.note}` : ''}`)}</li>`)
    .join('');

  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${WORK_ORDER_CSS}">
</head>
<body>
<main class="work-order" data-testid="work-order" data-alert-id="${esc(a.id)}">
<header>
<h1>Bon d'intervention</h1>
<p class="meta">${esc(i.town)} — alerte <code>${esc(a.id)}</code> — imprimé le ${esc(when(i.now, tz))}</p>
</header>
<section><h2>Où</h2><table class="kv">${where.join('')}</table></section>
<section><h2>Quoi</h2><table class="kv">${what.join('')}</table></section>
<section><h2>Preuve</h2>${evidence}</section>
${folded}
${history ? `<section><h2>Historique</h2><ul class="history">${history}</ul></section>` : ''}
<section class="crew"><h2>Compte rendu de l'équipe</h2>
<p>Intervention réalisée le : ____________________ par : ______________________________</p>
<p>Constat sur place : ________________________________________________________________</p>
<p>Pièce remplacée : __________________________________________________________________</p>
<p>Signature :</p>
</section>
</main>
</body>
</html>
`;
}
