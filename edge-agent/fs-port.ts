import fs from 'node:fs';

/**
 * The file calls the gateway's on-disk state makes, passed in rather than imported so a test can
 * make the disk fail (ENOSPC, EIO) exactly where it wants, with no tmpfs to fill.
 */
export type EdgeFs = Pick<
  typeof fs,
  | 'mkdirSync'
  | 'readdirSync'
  | 'rmSync'
  | 'statSync'
  | 'readFileSync'
  | 'openSync'
  | 'writeFileSync'
  | 'fsyncSync'
  | 'closeSync'
  | 'renameSync'
>;

export const nodeFs: EdgeFs = fs;

/** True for the errors of a full or failing disk, which the gateway survives (it keeps lighting). */
export function isStorageError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EIO' || code === 'EROFS' || code === 'EDQUOT';
}
