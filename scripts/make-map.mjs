// Converts world-atlas's 1:110m country outlines (Natural Earth, public domain; package ISC)
// into the compact map asset the web page embeds: one SVG path per ISO alpha-2 country, in
// the Equal Earth projection, coordinates rounded to 0.1 px on a 1000-px-wide canvas.
// Run once at development time (the output is committed):
//   (cd tests/browser && npm install) && node scripts/make-map.mjs > crates/exportgate-server/src/web/map.json
import { createRequire } from 'node:module';
const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const topo = require('world-atlas/countries-110m.json');
const { feature } = require('topojson-client');
const iso = require('i18n-iso-countries');

const A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796, M = Math.sqrt(3) / 2;
const W = 1000, S = W / (2 * 2.7207), H = Math.round(2 * 1.3173 * S);
function project([lon, lat]) {
  const l = (lon * Math.PI) / 180, p = (lat * Math.PI) / 180;
  const t = Math.asin(M * Math.sin(p)), t2 = t * t, t6 = t2 * t2 * t2;
  const x = (2 * Math.sqrt(3) * l * Math.cos(t)) / (3 * (9 * A4 * t6 * t2 + 7 * A3 * t6 + 3 * A2 * t2 + A1));
  const y = t * (A4 * t6 * t2 + A3 * t6 + A2 * t2 + A1);
  return [Math.round((W / 2 + x * S) * 10) / 10, Math.round((H / 2 - y * S) * 10) / 10];
}
// Rings that cross the antimeridian (Russia, Fiji, Alaska's Aleutians, Kiribati) are moved to
// the side where most of their points lie, and the overhang is pressed onto the map's edge.
function unwrap(coords) {
  let crosses = false;
  for (let i = 1; i < coords.length; i++) if (Math.abs(coords[i][0] - coords[i - 1][0]) > 180) crosses = true;
  if (!crosses) return coords;
  const east = coords.filter((c) => c[0] > 0).length * 2 >= coords.length;
  return coords.map(([lon, lat]) => (east
    ? [Math.min(180, lon < 0 ? lon + 360 : lon), lat]
    : [Math.max(-180, lon > 0 ? lon - 360 : lon), lat]));
}
function ring(coords) {
  let out = '', last = null, n = 0;
  for (const c of unwrap(coords)) {
    const [x, y] = project(c);
    if (last && last[0] === x && last[1] === y) continue;
    out += (n === 0 ? 'M' : 'L') + x + ' ' + y;
    last = [x, y]; n++;
  }
  return n >= 3 ? out + 'Z' : '';
}
const fc = feature(topo, topo.objects.countries);
const countries = [];
for (const f of fc.features) {
  const code = f.id ? iso.numericToAlpha2(f.id) : undefined;
  // Antarctica is left out: no export destination, and it wraps the whole map.
  if (!code || !f.geometry || code === 'AQ') continue;
  const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
  const d = polys.map((p) => p.map(ring).join('')).join('');
  if (d) countries.push({ code, name: f.properties.name, d });
}
countries.sort((a, b) => a.code.localeCompare(b.code));
process.stdout.write(JSON.stringify({
  source: 'Natural Earth 1:110m via world-atlas 2.0.2 (public domain); Equal Earth projection',
  width: W, height: H, countries,
}) + '\n');
