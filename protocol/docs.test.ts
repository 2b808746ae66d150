import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertMessageSchema, channels, isChannel } from './index.js';

const doc = readFileSync(new URL('../docs/protocol.md', import.meta.url), 'utf8');

/** Every ```json <schema> block of the doc, each block split into its JSON values. */
function examples(): Array<{ schema: string; json: string; line: number }> {
  const out: Array<{ schema: string; json: string; line: number }> = [];
  const re = /^([ \t]*)```json[ \t]*([a-z-]*)\n([\s\S]*?)^\1```/gm;
  for (let m = re.exec(doc); m; m = re.exec(doc)) {
    const line = doc.slice(0, m.index).split('\n').length;
    const body = m[3] ?? '';
    for (const json of splitJsonValues(body)) out.push({ schema: m[2] ?? '', json, line });
  }
  return out;
}

/** A block may hold several JSON objects one after the other: split them by brace depth. */
function splitJsonValues(text: string): string[] {
  const values: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) values.push(text.slice(start, i + 1));
  }
  return values;
}

function schemaFor(name: string) {
  if (name === 'alert') return alertMessageSchema;
  if (isChannel(name)) return channels[name].schema;
  return null;
}

describe('docs/protocol.md', () => {
  const all = examples();

  it('has an example for every channel and for alerts', () => {
    const named = new Set(all.map((e) => e.schema));
    for (const c of [...Object.keys(channels), 'alert']) expect(named, c).toContain(c);
  });

  it.each(all.map((e) => [`${e.schema} example at line ${e.line}`, e] as const))('%s parses', (_name, e) => {
    const schema = schemaFor(e.schema);
    expect(schema, `unknown schema name "${e.schema}"`).not.toBeNull();
    const result = schema!.safeParse(JSON.parse(e.json));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('the Last Will quoted in the text is a valid status', () => {
    expect(doc).toContain('`{"v":1,"online":false}`');
    expect(channels.status.schema.safeParse({ v: 1, online: false }).success).toBe(true);
  });
});
