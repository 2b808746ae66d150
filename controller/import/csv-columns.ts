import { z } from 'zod';

/**
 * Which CSV column feeds which lamp field. Detected from the headers GIS tools and French
 * open-data portals use; an explicit mapping overrides the detection field by field.
 */

export const CSV_FIELDS = [
  'id',
  'cabinetId',
  'zone',
  'lat',
  'lon',
  'x',
  'y',
  'nominalPowerW',
  'baselinePowerW',
  'lampType',
  'upwardLightRatioPct',
  'cieFluxCode3Pct',
  'colourTemperatureK',
  'maxPowerW',
  'nominalFluxLm',
  'installedOn',
] as const;
export const csvFieldSchema = z.enum(CSV_FIELDS);
export type CsvField = z.infer<typeof csvFieldSchema>;

/**
 * An explicit mapping: field → header as written in the file; `null` ignores a column the
 * detection would have picked.
 */
export const columnMappingSchema = z.partialRecord(csvFieldSchema, z.string().min(1).max(200).nullable());
export type ColumnMapping = z.infer<typeof columnMappingSchema>;

/** Field → the file's header it is read from. */
export type ResolvedMapping = Partial<Record<CsvField, string>>;

/** Headers recognised for each field, normalised (see `normaliseHeader`), most specific first. */
const SYNONYMS: Record<CsvField, readonly string[]> = {
  id: ['id', 'identifiant', 'id_lampe', 'id_luminaire', 'id_point_lumineux', 'id_pl', 'point_lumineux', 'numero', 'num', 'reference', 'ref', 'code', 'lamp_id'],
  cabinetId: ['armoire', 'id_armoire', 'code_armoire', 'armoire_commande', 'num_armoire', 'coffret', 'cabinet', 'cabinet_id'],
  zone: ['zone', 'quartier', 'secteur', 'zone_id'],
  lat: ['latitude', 'lat', 'y_wgs84', 'lat_wgs84'],
  lon: ['longitude', 'lon', 'lng', 'long', 'x_wgs84', 'lon_wgs84'],
  x: ['x', 'x_l93', 'x_lambert93', 'x_lambert_93', 'coord_x', 'x_2154', 'easting'],
  y: ['y', 'y_l93', 'y_lambert93', 'y_lambert_93', 'coord_y', 'y_2154', 'northing'],
  nominalPowerW: ['puissance', 'puissance_w', 'puissance_nominale', 'puissance_lampe', 'p_w', 'power', 'power_w', 'nominal_power_w'],
  baselinePowerW: ['puissance_avant', 'puissance_initiale', 'puissance_ancienne', 'ancienne_puissance', 'baseline_power_w'],
  lampType: ['type_lampe', 'type_de_lampe', 'type_source', 'source_lumineuse', 'technologie', 'lampe', 'lamp_type'],
  upwardLightRatioPct: ['ulr', 'ulor', 'ulr_pct', 'proportion_lumiere_au_dessus_horizontale', 'flux_au_dessus_horizontale', 'upward_light_ratio_pct'],
  cieFluxCode3Pct: ['code_flux_cie_3', 'code_flux_cie_n3', 'code_flux_cie_n_3', 'cie_n3', 'fcie3', 'cie_flux_code_3', 'cie_flux_code3_pct'],
  colourTemperatureK: ['temperature_couleur', 'temperature_de_couleur', 'temp_couleur', 'tcc', 'cct', 'colour_temperature_k', 'color_temperature'],
  maxPowerW: ['puissance_max', 'puissance_maximale', 'max_power_w'],
  nominalFluxLm: ['flux_nominal', 'flux_lumineux', 'flux', 'flux_lm', 'lumens', 'nominal_flux_lm'],
  installedOn: ['date_installation', 'date_pose', 'date_de_pose', 'date_mise_en_service', 'mise_en_service', 'installation_date', 'installed_on'],
};

/** Lower case, accents and units in brackets dropped, runs of other characters as one `_`: "Température couleur (K)" → "temperature_couleur". */
export function normaliseHeader(header: string): string {
  return header
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\([^)]*\)|\[[^\]]*\]/g, ' ')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export class MappingError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/**
 * The mapping for these headers: detection, then the explicit entries. Each header feeds at most
 * one field. Throws a MappingError when an explicit header is not in the file or a required
 * field has no column.
 */
export function resolveMapping(headers: readonly string[], explicit: ColumnMapping = {}): { mapping: ResolvedMapping; coordinates: 'wgs84' | 'lambert93' } {
  const mapping: ResolvedMapping = {};
  const used = new Set<string>();
  for (const [field, header] of Object.entries(explicit) as Array<[CsvField, string | null | undefined]>) {
    if (header === null || header === undefined) continue;
    if (!headers.includes(header)) {
      throw new MappingError(`mapping.${field}: no column "${header}" in the file (columns: ${headers.join(', ')})`, `mapping.${field}`);
    }
    mapping[field] = header;
    used.add(header);
  }
  const byNormalised = new Map<string, string>();
  for (const h of headers) {
    const n = normaliseHeader(h);
    if (!byNormalised.has(n)) byNormalised.set(n, h);
  }
  for (const field of CSV_FIELDS) {
    if (Object.hasOwn(explicit, field)) continue;
    for (const synonym of [...SYNONYMS[field], normaliseHeader(field)]) {
      const header = byNormalised.get(synonym);
      if (header !== undefined && !used.has(header)) {
        mapping[field] = header;
        used.add(header);
        break;
      }
    }
  }
  for (const field of ['id', 'cabinetId', 'zone', 'nominalPowerW'] as const) {
    if (mapping[field] === undefined) {
      throw new MappingError(`mapping.${field}: no column found for ${field} (columns: ${headers.join(', ')}); name one in the mapping`, `mapping.${field}`);
    }
  }
  // Latitude/longitude win when a file has both kinds: no projection, nothing to get wrong.
  if (mapping.lat !== undefined && mapping.lon !== undefined) {
    delete mapping.x;
    delete mapping.y;
    return { mapping, coordinates: 'wgs84' };
  }
  if (mapping.x !== undefined && mapping.y !== undefined) {
    delete mapping.lat;
    delete mapping.lon;
    return { mapping, coordinates: 'lambert93' };
  }
  throw new MappingError(
    `mapping.lat: no coordinate columns: need latitude/longitude (WGS84) or x/y (Lambert-93) (columns: ${headers.join(', ')})`,
    'mapping.lat',
  );
}
