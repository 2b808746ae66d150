import proj4 from 'proj4';

/**
 * Lambert-93 (EPSG:2154, RGF93 / Lambert-93), the projection French GIS exports use, to WGS84
 * longitude/latitude through proj4. RGF93 and WGS84 agree to a few centimetres, hence the null
 * datum shift, as the EPSG registry's own proj string has it.
 */
const LAMBERT_93 =
  '+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs +type=crs';

/** forward: Lambert-93 → WGS84; inverse: WGS84 → Lambert-93. */
const converter = proj4(LAMBERT_93, 'WGS84');

/**
 * EPSG:2154's area of use (metropolitan France and Corsica, offshore included), degrees.
 * A point outside is almost always a file in another projection or with x and y swapped.
 */
export const LAMBERT_93_AREA = { minLon: -9.86, maxLon: 10.38, minLat: 41.15, maxLat: 51.56 } as const;

/** Lambert-93 metres to WGS84 degrees; null when the result falls outside the projection's area. */
export function lambert93ToWgs84(x: number, y: number): { lon: number; lat: number } | null {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
  const [lon, lat] = converter.forward([x, y]);
  if (lon === undefined || lat === undefined || !Number.isFinite(lon) || !Number.isFinite(lat)) return null;
  const a = LAMBERT_93_AREA;
  if (lon < a.minLon || lon > a.maxLon || lat < a.minLat || lat > a.maxLat) return null;
  return { lon, lat };
}

/** WGS84 degrees to Lambert-93 metres (tests, exports for GIS). */
export function wgs84ToLambert93(lon: number, lat: number): { x: number; y: number } {
  const [x, y] = converter.inverse([lon, lat]);
  return { x: x!, y: y! };
}
