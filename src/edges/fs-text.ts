// Reading and writing a small text file (/proc, /run, pid files) behind a promise, synchronous underneath: a hook that does
// no asynchronous filesystem call never starts libuv's threadpool (bench/), and node:fs/promises costs every hook its evaluation.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

export async function readText(file: string): Promise<string> {
  return readFileSync(file, 'utf8');
}

export async function writeText(file: string, text: string): Promise<void> {
  writeFileSync(file, text);
}

/** Unlink `file` if it is there; a file already gone (or never written) is not an error. */
export function removeIfThere(file: string): void {
  try { unlinkSync(file); } catch { /* already gone */ }
}
