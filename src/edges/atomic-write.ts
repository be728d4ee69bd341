// Replace a file atomically: a temp file beside it (<real path>.<digits>, as the journal's sweep expects), written, owned, synced, renamed.
// Synchronous on purpose: only the lock holder writes, and nothing else of its own runs meanwhile.
import { closeSync, constants, fchmodSync, fchownSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';

export interface AtomicWriteOptions {
  readonly mode: number;
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/** `real` is the target with symlinks resolved (a symlinked /etc/hosts keeps its link). Throws the fs error; leaves no temp file. */
export function writeFileAtomicSync(real: string, data: Buffer, options: AtomicWriteOptions): void {
  // O_EXCL | O_NOFOLLOW: never through a file or link someone planted at the temp name
  const tmp = `${real}.${Math.floor(Math.random() * 0xffffffff)}`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode);
  try {
    try {
      for (let written = 0; written < data.length;) written += writeSync(fd, data, written, data.length - written);
      if (options.owner) fchownSync(fd, options.owner.uid, options.owner.gid);
      fchmodSync(fd, options.mode); // the umask must not narrow the file's old mode
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, real);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
}
