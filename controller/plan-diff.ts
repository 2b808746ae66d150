import { z } from 'zod';

/**
 * A readable structural diff of two town plans, pure: what technical services need to review a
 * version before publishing or rolling back. Paths use the compliance findings' notation
 * (`profiles.parc.schedule[1].to`), so a UI can put both next to the same field.
 *
 * Objects are compared key by key, arrays index by index (a slot inserted in the middle shows as
 * the later slots changed plus one added: honest about what the gateways will see), and leaves by
 * value. A change of type (object to number...) is one change at that path.
 */

export const planChangeSchema = z.object({
  kind: z.enum(['added', 'removed', 'changed']),
  path: z.string(),
  /** Absent for `added`. */
  before: z.unknown().optional(),
  /** Absent for `removed`. */
  after: z.unknown().optional(),
});
export type PlanChange = z.infer<typeof planChangeSchema>;

export const planDiffSchema = z.object({
  added: z.number().int().nonnegative(),
  removed: z.number().int().nonnegative(),
  changed: z.number().int().nonnegative(),
  /** French, one line: « 2 ajouts, 1 modification : profiles.parc.schedule[0].to, … ». */
  summary: z.string(),
  changes: z.array(planChangeSchema),
});
export type PlanDiff = z.infer<typeof planDiffSchema>;

/** Paths named in the one-line summary; the full list is in `changes`. */
const SUMMARY_PATHS = 4;

/** `before` null: the first version, everything is added. Both are plain JSON (zod-parsed plans). */
export function diffPlans(before: unknown, after: unknown): PlanDiff {
  const changes: PlanChange[] = [];
  if (before === null || before === undefined) {
    for (const key of Object.keys(asRecord(after) ?? {}).sort()) {
      changes.push({ kind: 'added', path: key, after: (after as Record<string, unknown>)[key] });
    }
  } else {
    walk(before, after, '', changes);
  }
  const count = (k: PlanChange['kind']): number => changes.filter((c) => c.kind === k).length;
  const added = count('added');
  const removed = count('removed');
  const changed = count('changed');
  return { added, removed, changed, summary: summarize(changes, added, removed, changed), changes };
}

function walk(a: unknown, b: unknown, path: string, out: PlanChange[]): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common; i++) walk(a[i], b[i], `${path}[${i}]`, out);
    for (let i = common; i < a.length; i++) out.push({ kind: 'removed', path: `${path}[${i}]`, before: a[i] });
    for (let i = common; i < b.length; i++) out.push({ kind: 'added', path: `${path}[${i}]`, after: b[i] });
    return;
  }
  const ra = asRecord(a);
  const rb = asRecord(b);
  if (ra && rb) {
    const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
    for (const key of keys) {
      const p = path ? `${path}.${key}` : key;
      const inA = Object.hasOwn(ra, key) && ra[key] !== undefined;
      const inB = Object.hasOwn(rb, key) && rb[key] !== undefined;
      if (inA && !inB) out.push({ kind: 'removed', path: p, before: ra[key] });
      else if (!inA && inB) out.push({ kind: 'added', path: p, after: rb[key] });
      else if (inA && inB) walk(ra[key], rb[key], p, out);
    }
    return;
  }
  if (!sameLeaf(a, b)) out.push({ kind: 'changed', path: path || '(plan)', before: a, after: b });
}

function asRecord(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function sameLeaf(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  // Differently shaped values (an array against an object, or a leaf): compare as JSON.
  return typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n > 1 ? many : one}`;
}

function summarize(changes: readonly PlanChange[], added: number, removed: number, changed: number): string {
  if (changes.length === 0) return 'Aucune modification';
  const parts: string[] = [];
  if (added) parts.push(plural(added, 'ajout', 'ajouts'));
  if (removed) parts.push(plural(removed, 'suppression', 'suppressions'));
  if (changed) parts.push(plural(changed, 'modification', 'modifications'));
  const paths = changes.slice(0, SUMMARY_PATHS).map((c) => c.path);
  const more = changes.length > SUMMARY_PATHS ? ', …' : '';
  return `${parts.join(', ')} : ${paths.join(', ')}${more}`;
}

/** Versions (newest first, as stored) each with the summary of its diff against the one before. */
export function withDiffSummaries<V extends { plan: unknown }>(
  versions: readonly V[],
): Array<V & { diff: Omit<PlanDiff, 'changes'>; current: boolean }> {
  return versions.map((v, i) => {
    const { changes: _changes, ...diff } = diffPlans(versions[i + 1]?.plan ?? null, v.plan);
    return { ...v, diff, current: i === 0 };
  });
}
