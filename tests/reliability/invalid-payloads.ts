import { mulberry32 } from '../../edge-agent/prng.js';
import { decodePayload, type Channel } from '../../protocol/index.js';

/**
 * Invalid payloads for one message type, made from a valid example: not JSON, truncated, deep
 * nesting (up to 100,000 levels), `__proto__` keys, 1 MiB strings, NaN and Infinity, wrong types,
 * missing fields, wrong version, out-of-range numbers, bad ids, non-objects. Every one is checked
 * against the real decoder: a mutation that happens to stay valid is replaced, so the count of
 * invalid payloads sent is exact.
 */

const WRONG: unknown[] = ['x', '', 42, -1, 1.5, true, false, null, [], [1, 'a'], {}, { a: { b: 1 } }, 'A'.repeat(65), 'bad id!', 2 ** 60];

export function invalidPayloads(channel: Channel, valid: Record<string, unknown>, count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const keys = Object.keys(valid);
  const text = JSON.stringify(valid);
  const out: string[] = [];
  let kind = 0;
  while (out.length < count) {
    const k = kind++ % 12;
    let p: string;
    switch (k) {
      case 0:
        p = text.slice(0, Math.floor(rand() * (text.length - 1)) + 1).replace(/}$/, '');
        break;
      case 1:
        p = Array.from({ length: 1 + Math.floor(rand() * 200) }, () => String.fromCharCode(Math.floor(rand() * 0x3000))).join('');
        break;
      case 2: {
        // Every 400th a 100,000-level nesting; otherwise a few thousand levels, in a field or alone.
        const depth = out.length % 400 === 2 ? 100_000 : 1 + Math.floor(rand() * 5000);
        const nest = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        p = rand() < 0.5 ? nest : text.replace(/^\{/, `{"${pick(keys)}":${nest},`).replace(new RegExp(`,"${pick(keys)}":`), ',"_x":');
        break;
      }
      case 3:
        p = rand() < 0.5 ? `{"__proto__":${text}}` : `{"__proto__":{"v":1},"constructor":{"prototype":{"polluted":true}},"${pick(keys)}":{"__proto__":null}}`;
        break;
      case 4: {
        // 1 MiB strings now and then (refused on size before parsing); 300 KiB ones otherwise.
        const big = 'x'.repeat(out.length % 500 === 4 ? 1 << 20 : 300 * 1024);
        p = JSON.stringify({ ...valid, [pick(keys)]: big });
        break;
      }
      case 5: {
        const key = pick(keys);
        p = text.replace(`"${key}":${JSON.stringify(valid[key])}`, `"${key}":${pick(['NaN', 'Infinity', '-Infinity', '1e999', '-1e999', 'undefined'])}`);
        break;
      }
      case 6:
        p = JSON.stringify({ ...valid, [pick(keys)]: pick(WRONG) });
        break;
      case 7: {
        const { [pick(keys)]: _gone, ...rest } = valid;
        p = JSON.stringify(rest);
        break;
      }
      case 8:
        p = JSON.stringify({ ...valid, v: pick([2, 0, '1', null, 1.0001]) });
        break;
      case 9:
        p = pick(['42', '"text"', '[]', 'null', 'true', `[${text}]`, '{}', ' ']);
        break;
      case 10: {
        // Every field at once replaced with a wrong value.
        p = JSON.stringify(Object.fromEntries(keys.map((key) => [key, pick(WRONG)])));
        break;
      }
      default:
        p = `${text}${pick(['}', ']', ',', '{', 'garbage', '\u0000'])}`;
    }
    if (p.length === 0) continue; // an empty payload clears a retained message: not a message
    if (!decodePayload(channel, p).ok) out.push(p);
  }
  return out;
}
