import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** The top self-time entries of a V8 `.cpuprofile` (written by `node --cpu-prof`). */

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

export interface ProfileEntry {
  /** `function (file:line)`, the file cut to its package or source path. */
  frame: string;
  selfPct: number;
}

export function summariseProfile(file: string, top: number): ProfileEntry[] {
  return selfTime(file, top, (functionName, url, lineNumber) => {
    const short = url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, '').replace(/^file:\/\//, '');
    return `${functionName || '(anonymous)'} (${short || 'native'}${short ? `:${lineNumber + 1}` : ''})`;
  });
}

/**
 * Self time grouped by where the code lives: an npm package (`aedes`, `zod`, …), Luciole's own
 * code by top folder (`luciole/controller`), Node's internals, or V8 (GC, idle, builtins).
 */
export function summariseByOwner(file: string, top: number): ProfileEntry[] {
  return selfTime(file, top, (functionName, url) => ownerOfFrame(functionName, url));
}

/** The `top` largest self times, each sample counted for the key `keyOf` gives its frame. */
function selfTime(file: string, top: number, keyOf: (functionName: string, url: string, lineNumber: number) => string): ProfileEntry[] {
  const p = profileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const keys = new Map<number, string>();
  for (const n of p.nodes) keys.set(n.id, keyOf(n.callFrame.functionName, n.callFrame.url, n.callFrame.lineNumber));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    const key = keys.get(p.samples[i]!) ?? '?';
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({ frame, selfPct: Math.round((1000 * us) / total) / 10 }));
}

function ownerOfFrame(functionName: string, url: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : 'V8 builtins and native calls';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/dist\/([^/]+)\//.exec(url);
  return own ? `luciole/${own[1]}` : url;
}
