import path from 'node:path';
import { nodeFs, type EdgeFs } from './fs-port.js';

/**
 * Writes `data` to `file` so that after a crash (kill -9, power cut) the file holds either the
 * old content or the new one, never a torn mix: temp file, fsync, rename over, fsync the folder
 * so the rename itself is on disk.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, fs: EdgeFs = nodeFs): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.tmp-${path.basename(file)}-${process.pid}`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir, fs);
}

export function fsyncDir(dir: string, fs: EdgeFs = nodeFs): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Temp files left by a crash in the middle of writeFileAtomic. */
export function isTempFile(name: string): boolean {
  return name.startsWith('.tmp-');
}

/** The file's text, or null when it does not exist. */
export function readFileIfExists(file: string, fs: EdgeFs = nodeFs): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
