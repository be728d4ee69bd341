// The holder's atomic file replacement: new content under the old owner and mode, and no temp file left when it fails.
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync, chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomicSync } from '../../src/edges/atomic-write';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'vnd-aw-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomicSync', () => {
  it('replaces the file (a new inode) with the mode asked for, whatever the umask', () => {
    const file = join(dir, 'hosts');
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o640);
    const before = statSync(file);
    const umask = process.umask(0o077);
    try {
      writeFileAtomicSync(file, Buffer.from('new\n'), { mode: 0o664, owner: { uid: before.uid, gid: before.gid } });
    } finally {
      process.umask(umask);
    }
    const after = statSync(file);
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(after.ino).not.toBe(before.ino);
    expect(after.mode & 0o777).toBe(0o664);
    expect(readdirSync(dir)).toEqual(['hosts']);
  });

  it('a failed replacement leaves the old file and no temp file', () => {
    const target = join(dir, 'ethers');
    mkdirSync(target); // rename of a file over a directory fails
    expect(() => writeFileAtomicSync(target, Buffer.from('x\n'), { mode: 0o644 })).toThrow(/EISDIR|ENOTDIR|EEXIST/);
    expect(readdirSync(dir)).toEqual(['ethers']);
  });
});
