// @ts-check
/**
 * Map geometry without a tile server: an equirectangular projection whose longitudes are
 * scaled by cos(latitude), which is true to shape at the scale of a town.
 */

/** Long side of the drawing, in SVG user units; the SVG scales it to the viewport. */
export const MAP_SIZE = 1000;

/**
 * @param {ReadonlyArray<{ lat: number, lon: number }>} points
 * @param {number} [padding] user units left around the points
 * @returns {{ width: number, height: number, project(lat: number, lon: number): { x: number, y: number } }}
 */
export function fitProjection(points, padding = 24) {
  let minLat = Infinity;
  let maxLat = -Infinity;
  let minLon = Infinity;
  let maxLon = -Infinity;
  for (const p of points) {
    if (!Number.isFinite(p.lat) || !Number.isFinite(p.lon)) continue;
    minLat = Math.min(minLat, p.lat);
    maxLat = Math.max(maxLat, p.lat);
    minLon = Math.min(minLon, p.lon);
    maxLon = Math.max(maxLon, p.lon);
  }
  if (minLat === Infinity) {
    minLat = maxLat = 0;
    minLon = maxLon = 0;
  }
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  // A single point (or a straight line of lamps) still needs a non-zero span to scale by.
  const spanX = Math.max((maxLon - minLon) * k, 1e-6);
  const spanY = Math.max(maxLat - minLat, 1e-6);
  const scale = (MAP_SIZE - 2 * padding) / Math.max(spanX, spanY);
  return {
    width: spanX * scale + 2 * padding,
    height: spanY * scale + 2 * padding,
    project(lat, lon) {
      return { x: padding + (lon - minLon) * k * scale, y: padding + (maxLat - lat) * scale };
    },
  };
}

const OFF = [0x3a, 0x3a, 0x3a];
const FULL = [0xff, 0xc8, 0x3d];

/**
 * Dark grey for 0 %, warm yellow for 100 %; no reading yet: a pale grey.
 * @param {number | null} level
 * @returns {string}
 */
export function levelColour(level) {
  if (level === null || !Number.isFinite(level)) return '#b8b8b8';
  const t = Math.min(1, Math.max(0, level / 100));
  const hex = OFF.map((a, i) => Math.round(a + ((FULL[i] ?? a) - a) * t).toString(16).padStart(2, '0'));
  return `#${hex.join('')}`;
}
