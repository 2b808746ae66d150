import type { AlertView } from '../views.js';

/** French names of alert kinds for people (mails, work orders); the UI keeps its own copy (maintenance-model.js). */
export const KIND_FR: Readonly<Record<string, string>> = Object.freeze({
  lamp_failure: 'Lampe éteinte (panne)',
  driver_fault: 'Défaut du driver',
  day_burner: 'Allumée en plein jour',
  cycling: 'Lampe clignotante (allumages répétés)',
  power_high: 'Puissance trop élevée',
  power_low: 'Puissance trop faible',
  voltage: "Tension d'alimentation hors tolérance",
  cabinet_offline: 'Armoire hors ligne',
  cabinet_meter_mismatch: "Écart au compteur de l'armoire",
  door_open: "Porte d'armoire ouverte",
  power_cut: 'Coupure secteur',
  sensor_stuck: 'Capteur de présence bloqué',
  no_data: 'Lampe absente des mesures',
  storage_unavailable: 'Base de télémesure indisponible',
});

export const SEVERITY_FR: Readonly<Record<AlertView['severity'], string>> = Object.freeze({
  critical: 'critique',
  major: 'majeure',
  minor: 'mineure',
});

export const STATE_FR: Readonly<Record<AlertView['state'], string>> = Object.freeze({
  open: 'ouverte',
  acknowledged: 'prise en charge',
  resolved: 'résolue',
});

export const ACTION_FR: Readonly<Record<string, string>> = Object.freeze({
  opened: 'ouverte',
  acknowledged: 'prise en charge',
  resolved: 'résolue',
  reopened: 'rouverte',
  escalated: 'aggravée',
  folded: 'regroupée',
});

export function kindFr(kind: string): string {
  return KIND_FR[kind] ?? kind;
}
