import { nightAt, nightForDate } from '../../core/astro.js';
import type { Site } from '../../protocol/index.js';
import type { GroupRollup, HourRollup, RollupQuery } from '../stores.js';
import {
  accountGroups,
  accountNights,
  accountPeriod,
  mixedCabinets,
  nightFrame,
  UNLISTED_GROUP,
  wholeDarkHours,
  type AccountingLamp,
  type NightFrame,
} from './accounting.js';
import { frDate, frNumber } from './french.js';
import { nightDates, resolvePeriod, yearBefore, type PeriodSpan } from './periods.js';
import type { EnergyReport, GroupFigures, ReportQuery } from './report-schema.js';
import { tariffOn, type ReportSettings } from './settings.js';

/**
 * The energy report: reads the hourly roll-ups for the period (three queries: the town per hour,
 * per cabinet, and the lamps of cabinets that feed several zones), then accounts them (pure).
 */

/** What a report reads: the telemetry store's roll-ups (`TelemetryStore.rollupByHour/ByGroup`). */
export interface RollupSource {
  rollupByHour(from: number, to: number): Promise<HourRollup[]>;
  rollupByGroup(query: RollupQuery): Promise<GroupRollup[]>;
}

export interface ReportContext {
  source: RollupSource;
  town: { name: string; site: Site };
  lamps: readonly AccountingLamp[];
  settings: ReportSettings;
  /** Expected telemetry period, s. */
  periodS: number;
  now: number;
  /** Zone labels given by technical services. */
  zoneLabels?: ReadonlyMap<string, string>;
}

export function reportMethod(settings: ReportSettings): string {
  return (
    "Consommation mesurée par les compteurs d'énergie des lampes (différence entre deux relevés ; " +
    'une remise à zéro du compteur compte sa nouvelle valeur ; une interruption des mesures n’est jamais comblée : ' +
    "l'énergie relevée à la reprise est comptée et signalée). Une nuit va du coucher au lever officiels du soleil " +
    'calculés pour la commune et porte la date de son coucher ; toute mesure de midi à midi lui appartient. ' +
    'Référence « pleine puissance » : les mêmes lampes à 100 % du coucher au lever ; référence « avant rénovation » : ' +
    'la puissance des luminaires remplacés (à défaut, la puissance actuelle) à 100 % du coucher au lever. ' +
    'Les économies ne portent que sur les nuits mesurées. Euros : tarif en vigueur chaque nuit ; carbone : ' +
    `${frNumber(settings.emissionFactorKgPerKWh, 3)} kgCO2e par kWh. ` +
    'Complétude : part des relevés attendus reçus pendant les heures pleines de nuit.'
  );
}

function framesOf(span: PeriodSpan, site: Site, now: number): NightFrame[] {
  return nightDates(span.first, span.last).map((d) => nightFrame(nightForDate(site, d), now));
}

/** The newest night begun at `now` (its noon-to-noon window holds `now`). */
export function latestNight(site: Site, now: number): string {
  return nightAt(site, now).date;
}

interface Accounted {
  span: PeriodSpan;
  frames: NightFrame[];
  nights: EnergyReport['nights'];
  totals: ReturnType<typeof accountPeriod>;
  darkHours: number[];
}

async function accountSpan(ctx: ReportContext, span: PeriodSpan): Promise<Accounted> {
  const frames = framesOf(span, ctx.town.site, ctx.now);
  const from = frames[0]!.windowStart;
  const to = frames[frames.length - 1]!.windowEnd;
  const hours = await ctx.source.rollupByHour(from, to);
  const nights = accountNights({ frames, lamps: ctx.lamps, hours, settings: ctx.settings, periodS: ctx.periodS });
  const totals = accountPeriod(nights, frames, ctx.lamps.length, ctx.periodS, ctx.settings);
  return { span, frames, nights, totals, darkHours: frames.flatMap(wholeDarkHours) };
}

/** A tariff that covers every measured night, else null. */
function singleTariff(a: Accounted, settings: ReportSettings): number | null {
  let price: number | null = null;
  for (const n of a.nights) {
    if (n.energyKWh === null) continue;
    const t = tariffOn(settings.tariffs, n.date);
    if (!t || (price !== null && price !== t.eurPerKWh)) return null;
    price = t.eurPerKWh;
  }
  return price;
}

async function groupsOf(ctx: ReportContext, a: Accounted, by: 'zone' | 'cabinet' | 'lamp', lampIds?: readonly string[]): Promise<GroupFigures[]> {
  const from = a.frames[0]!.windowStart;
  const to = a.frames[a.frames.length - 1]!.windowEnd;
  const markedHours = a.darkHours;
  let cabinets: GroupRollup[] = [];
  let lampRows: GroupRollup[] = [];
  if (by === 'lamp') {
    lampRows = await ctx.source.rollupByGroup({ from, to, by: 'lamp', markedHours, ...(lampIds ? { lampIds } : {}) });
  } else {
    cabinets = await ctx.source.rollupByGroup({ from, to, by: 'cabinet', markedHours });
    const mixed = by === 'zone' ? mixedCabinets(ctx.lamps) : new Set<string>();
    if (mixed.size > 0) {
      const ids = ctx.lamps.filter((l) => mixed.has(l.cabinetId)).map((l) => l.id);
      lampRows = await ctx.source.rollupByGroup({ from, to, by: 'lamp', lampIds: ids, markedHours });
    }
  }
  const only = by === 'lamp' && lampIds ? new Set(lampIds) : null;
  return accountGroups({
    by,
    lamps: only ? ctx.lamps.filter((l) => only.has(l.id)) : ctx.lamps,
    cabinets,
    lampRows,
    measuredFrames: a.frames.filter((_, i) => a.nights[i]!.energyKWh !== null),
    darkHourCount: markedHours.length,
    eurPerKWh: singleTariff(a, ctx.settings),
    settings: ctx.settings,
    periodS: ctx.periodS,
    ...(by === 'zone' && ctx.zoneLabels ? { labels: ctx.zoneLabels } : {}),
  });
}

function notesOf(ctx: ReportContext, a: Accounted, groups: readonly GroupFigures[]): string[] {
  const notes: string[] = [];
  const h = a.totals.headline;
  const unmeasured = a.nights.filter((n) => n.energyKWh === null).map((n) => n.date);
  if (unmeasured.length > 0) {
    notes.push(
      `Aucune mesure pour ${unmeasured.length === 1 ? `la nuit du ${frDate(unmeasured[0]!)}` : `${unmeasured.length} nuits (dont celle du ${frDate(unmeasured[0]!)})`} : ` +
        'ni consommation ni économie comptées pour ces nuits.',
    );
  }
  if (h.completeness !== null && h.completeness < 0.99) {
    notes.push(`Données incomplètes : ${frNumber(h.completeness * 100, 1)} % des relevés attendus ont été reçus.`);
  }
  if (h.gapKWh > 0.0005) {
    notes.push(
      `${frNumber(h.gapKWh, 1)} kWh ont été relevés à la reprise des compteurs après une interruption des mesures : comptés tels quels, jamais répartis ni estimés.`,
    );
  }
  const without = ctx.lamps.filter((l) => l.baselinePowerW === null).length;
  if (without > 0) {
    notes.push(`${without} lampe${without > 1 ? 's' : ''} sans puissance « avant rénovation » connue : comptée${without > 1 ? 's' : ''} à sa puissance actuelle dans cette référence.`);
  }
  if (a.totals.nightsWithoutTariff.length > 0) {
    notes.push(
      `Aucun tarif renseigné pour ${a.totals.nightsWithoutTariff.length === 1 ? 'une nuit mesurée' : `${a.totals.nightsWithoutTariff.length} nuits mesurées`} (dès le ${frDate(a.totals.nightsWithoutTariff[0]!)}) : montants en euros non calculés.`,
    );
  }
  if (a.nights.some((n) => n.inProgress)) notes.push('La nuit en cours est comptée jusqu’à maintenant.');
  if (groups.some((g) => g.key === UNLISTED_GROUP)) {
    notes.push('Des armoires ont transmis des relevés de lampes absentes de l’inventaire : ils figurent à part.');
  }
  return notes;
}

export async function buildEnergyReport(ctx: ReportContext, query: ReportQuery): Promise<EnergyReport> {
  const span = resolvePeriod(query.period, latestNight(ctx.town.site, ctx.now), query.from, query.to);
  const a = await accountSpan(ctx, span);
  const groups = await groupsOf(ctx, a, query.groupBy);
  const before = await accountSpan(ctx, yearBefore(span));
  return {
    town: { name: ctx.town.name, timezone: ctx.town.site.timezone },
    period: { kind: span.kind, from: span.first, to: span.last, nights: a.nights.length, nightsMeasured: a.totals.nightsMeasured },
    generatedAt: ctx.now,
    lamps: ctx.lamps.length,
    lampsWithoutBaseline: ctx.lamps.filter((l) => l.baselinePowerW === null).length,
    settings: ctx.settings,
    headline: a.totals.headline,
    nights: a.nights,
    groupBy: query.groupBy,
    groups,
    yearBefore:
      before.totals.nightsMeasured > 0
        ? { from: before.span.first, to: before.span.last, nightsMeasured: before.totals.nightsMeasured, headline: before.totals.headline }
        : null,
    notes: notesOf(ctx, a, groups),
    method: reportMethod(ctx.settings),
  };
}

/** Burning hours, average level and energy of each lamp over the period (the lamps' export). */
export async function buildLampFigures(ctx: ReportContext, query: Pick<ReportQuery, 'period' | 'from' | 'to'>): Promise<{ period: PeriodSpan; lamps: GroupFigures[] }> {
  const span = resolvePeriod(query.period, latestNight(ctx.town.site, ctx.now), query.from, query.to);
  const a = await accountSpan(ctx, span);
  return { period: span, lamps: await groupsOf(ctx, a, 'lamp') };
}
