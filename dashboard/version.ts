import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const packageJsonSchema = z.object({ name: z.string(), version: z.string() });

/**
 * Luciole's version, from its package.json: one level up from this module in the source tree,
 * two from dist/dashboard/ after the build.
 */
export async function packageVersion(): Promise<string> {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const parsed = packageJsonSchema.safeParse(JSON.parse(await readFile(new URL(rel, import.meta.url), 'utf8')));
      if (parsed.success && parsed.data.name === 'luciole') return parsed.data.version;
    } catch {
      // Not there: try the next level.
    }
  }
  return 'unknown';
}
