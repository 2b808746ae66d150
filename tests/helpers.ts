import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Polls `check` until it holds, or fails after `timeoutMs` with `what` in the message. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `luciole-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A suite that needs a system binary: skipped locally without it, a failure in CI. */
export function requireBinary(path: string, exists: boolean): 'run' | 'skip' {
  if (exists) return 'run';
  if (process.env.CI === 'true') throw new Error(`${path} is required in CI (installed by .ci/run)`);
  console.warn(`[skipped] ${path} not found: install it to run this suite`);
  return 'skip';
}
