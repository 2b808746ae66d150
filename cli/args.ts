import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LucioleError } from '../core/errors.js';
import { formatIssuePath } from '../protocol/index.js';

/**
 * Command-line options are parsed by node:util, then validated with the process's zod schema
 * (after environment overrides), so a bad flag gets the same clear, named error as a bad file.
 */
export function parseFlags(
  argv: string[],
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    throw new LucioleError('LUCIOLE_ERR_USAGE', (e as Error).message);
  }
}

export function parseConfig<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue ? formatIssuePath(issue.path) : '';
    throw new LucioleError('LUCIOLE_ERR_CONFIG_INVALID', `${what}: ${field || '(root)'}: ${issue?.message ?? 'invalid'}`, field);
  }
  return r.data;
}

export const portSchema = z.coerce.number().int().min(0).max(65535);
