import { parseInventory } from '../inventory.js';
import { LAMP_DETAIL_FIELDS, lampPropertiesSchema, type LampDetails, type LampRecord } from '../inventory-schema.js';

/**
 * `parseInventory` (the GeoJSON operator contract, validated whole) with the art. 5 details of
 * each feature carried over: parseInventory builds records field by field and predates them.
 * Pure. A detail absent from a feature stays absent (the store then keeps its value).
 */
export function parseInventoryWithDetails(geojson: unknown): LampRecord[] {
  const lamps = parseInventory(geojson);
  // parseInventory returned, so the file is a FeatureCollection whose features all parsed, in order.
  const features = (geojson as { features: Array<{ properties: unknown }> }).features;
  for (let i = 0; i < lamps.length; i++) {
    const props = lampPropertiesSchema.parse(features[i]!.properties);
    copyDetails(props, lamps[i]!);
  }
  return lamps;
}

export function copyDetails(from: LampDetails, to: LampDetails): void {
  for (const key of LAMP_DETAIL_FIELDS) {
    const value = from[key];
    if (value !== undefined) (to as Record<string, unknown>)[key] = value;
  }
}
