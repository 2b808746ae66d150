import { z } from 'zod';
import { idSchema } from '../protocol/index.js';

/**
 * The compliance rule table: data a town can read and edit (thresholds, times, severities),
 * validated by `complianceRulesSchema`. DEFAULT_RULES transcribes the French light-nuisance order
 * (arrêté du 27 décembre 2018 relatif à la prévention, à la réduction et à la limitation des
 * nuisances lumineuses, NOR TREP1831126A) and a biodiversity "trame noire" rule. Each rule is
 * explained with its legal reference in docs/policies.md.
 */

export const HHMM_PATTERN = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
export const hhmmSchema = z.string().regex(HHMM_PATTERN, { message: 'must be HH:MM' });

export const zoneCategorySchema = z.enum(['road', 'park', 'car_park', 'heritage', 'sports', 'dark_corridor', 'other']);
export type ZoneCategory = z.infer<typeof zoneCategorySchema>;

export const checkSchema = z.discriminatedUnion('kind', [
  /** No light before sunset: nothing lit in a night's window before its dusk. */
  z.object({ kind: z.literal('not-before-sunset') }),
  /** No light after sunrise: nothing lit in a night's window after its dawn. */
  z.object({ kind: z.literal('not-after-sunrise') }),
  /**
   * Off from a deadline until dawn (or until `relightFrom`). The deadline is `latest`, or the
   * zone's `zoneTime.field` plus `zoneTime.plusMin`: `instead` of `latest` when the zone gives
   * that time, or the `later-of` the two. With neither, the rule cannot be checked (warning).
   */
  z.object({
    kind: z.literal('off-by'),
    latest: hhmmSchema.optional(),
    zoneTime: z
      .object({
        field: z.enum(['closingTime', 'activityEnd']),
        plusMin: z.number().int().min(0).max(720),
        combine: z.enum(['instead', 'later-of']),
      })
      .optional(),
    relightFrom: hhmmSchema.optional(),
  }),
  /** Colour temperature of the lamps, where the inventory gives it. */
  z.object({ kind: z.literal('max-colour-temperature'), maxK: z.number().int().positive() }),
  /** Never above `level` (the zone's `maxLevel` wins), presence boost included. */
  z.object({ kind: z.literal('max-level'), level: z.number().min(0).max(100).optional() }),
  /** Off every night over [from, to) (the zone's `extinction` wins). */
  z.object({ kind: z.literal('extinction'), from: hhmmSchema.optional(), to: hhmmSchema.optional() }),
]);
export type ComplianceCheck = z.infer<typeof checkSchema>;

export const complianceRuleSchema = z.object({
  /** Stable id, quoted in findings: `arrete-2018-12-27.art2.parks-off`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,127}$/, { message: 'must be lower-case letters, digits, dots and dashes' }),
  /** French, shown to technical services. */
  title: z.string().min(1).max(200),
  severity: z.enum(['error', 'warning']),
  /**
   * Zone categories the rule applies to. For `max-level` and `extinction`, a zone of another
   * category that sets its own `maxLevel` / `extinction` is checked too.
   */
  categories: z.union([z.literal('all'), z.array(zoneCategorySchema).min(1)]),
  reference: z.string().min(1).max(500),
  check: checkSchema,
});
export type ComplianceRule = z.infer<typeof complianceRuleSchema>;

export const complianceRulesSchema = z.array(complianceRuleSchema).max(200).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  for (const [i, r] of rules.entries()) {
    if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate rule id "${r.id}"` });
    seen.add(r.id);
  }
});

/** A town's edited table (e.g. read from a JSON file), validated; throws a ZodError naming the field. */
export function parseComplianceRules(input: unknown): ComplianceRule[] {
  return complianceRulesSchema.parse(input);
}

const ARRETE = 'Arrêté du 27 décembre 2018 relatif à la prévention, à la réduction et à la limitation des nuisances lumineuses';

export const DEFAULT_RULES: readonly ComplianceRule[] = parseComplianceRules([
  {
    id: 'arrete-2018-12-27.art2.not-before-sunset',
    title: 'Allumage au plus tôt au coucher du soleil',
    severity: 'error',
    categories: 'all',
    reference: `${ARRETE}, art. 2 : les installations sont allumées au plus tôt au coucher du soleil.`,
    check: { kind: 'not-before-sunset' },
  },
  {
    id: 'luciole.not-after-sunrise',
    title: 'Extinction au lever du soleil',
    severity: 'warning',
    categories: 'all',
    reference: 'Sobriété énergétique (Code de l’environnement, art. L. 583-1) : aucune utilité à éclairer après le lever du soleil.',
    check: { kind: 'not-after-sunrise' },
  },
  {
    id: 'arrete-2018-12-27.art2.parks-off',
    title: 'Parcs et jardins éteints à 1 h ou 1 h après la fermeture',
    severity: 'error',
    categories: ['park'],
    reference: `${ARRETE}, art. 2 : éclairage des parcs et jardins accessibles au public éteint au plus tard à 1 heure, ou au plus tard 1 heure après leur fermeture.`,
    check: { kind: 'off-by', latest: '01:00', zoneTime: { field: 'closingTime', plusMin: 60, combine: 'instead' } },
  },
  {
    id: 'arrete-2018-12-27.art2.heritage-off',
    title: 'Mise en lumière du patrimoine éteinte à 1 h',
    severity: 'error',
    categories: ['heritage'],
    reference: `${ARRETE}, art. 2 : mise en lumière du patrimoine et du cadre bâti éteinte au plus tard à 1 heure, ou 1 heure après la fin de l’activité si elle est plus tardive.`,
    check: { kind: 'off-by', latest: '01:00', zoneTime: { field: 'activityEnd', plusMin: 60, combine: 'later-of' } },
  },
  {
    id: 'arrete-2018-12-27.art2.car-parks-off',
    title: 'Parcs de stationnement éteints 2 h après la fin de l’activité',
    severity: 'error',
    categories: ['car_park'],
    reference: `${ARRETE}, art. 2 : parcs de stationnement non couverts annexés à un lieu d’activité éteints 2 heures après la fin de l’activité, rallumés à 7 heures au plus tôt.`,
    check: { kind: 'off-by', zoneTime: { field: 'activityEnd', plusMin: 120, combine: 'instead' }, relightFrom: '07:00' },
  },
  {
    id: 'arrete-2018-12-27.art2.sports-off',
    title: 'Équipements sportifs éteints 1 h après la fin de l’activité',
    severity: 'error',
    categories: ['sports'],
    reference: `${ARRETE}, art. 2 : équipements sportifs de plein air éteints au plus tard 1 heure après la fin de l’activité.`,
    check: { kind: 'off-by', zoneTime: { field: 'activityEnd', plusMin: 60, combine: 'instead' } },
  },
  {
    id: 'arrete-2018-12-27.art3.colour-temperature',
    title: 'Température de couleur au plus 3 000 K',
    severity: 'error',
    categories: 'all',
    reference: `${ARRETE}, art. 3 : la température de couleur des installations d’éclairage extérieur n’excède pas 3 000 K (2 400 K ou 2 700 K dans certains espaces protégés, art. 4).`,
    check: { kind: 'max-colour-temperature', maxK: 3000 },
  },
  {
    id: 'trame-noire.max-level',
    title: 'Corridor écologique : niveau plafonné',
    severity: 'error',
    categories: ['dark_corridor'],
    reference: 'Trame noire (Code de l’environnement, art. L. 371-1 et L. 583-1) : règle locale fixée par la commune ; niveau par défaut 30 %, à remplacer par celui de la zone.',
    check: { kind: 'max-level', level: 30 },
  },
  {
    id: 'trame-noire.extinction',
    title: 'Corridor écologique : extinction obligatoire',
    severity: 'error',
    categories: ['dark_corridor'],
    reference: 'Trame noire (Code de l’environnement, art. L. 371-1 et L. 583-1) : règle locale fixée par la commune ; extinction par défaut de 23:00 à 05:00, à remplacer par celle de la zone.',
    check: { kind: 'extinction', from: '23:00', to: '05:00' },
  },
]);
