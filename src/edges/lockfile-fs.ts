// The filesystem proper-lockfile is given (its `fs` option): node:fs's synchronous calls answered through callbacks on the
// next tick. A lock directory's mkdir/stat/utimes/rmdir take microseconds; done on libuv's threadpool they made every hook
// start its four threads and wake across them (bench/).
import { mkdirSync, realpathSync, rmdirSync, statSync, utimesSync, type Stats } from 'node:fs';

type Callback<T> = (err: NodeJS.ErrnoException | null, value?: T) => void;

function answer<T>(callback: Callback<T>, call: () => T): void {
  let value: T;
  try {
    value = call();
  } catch (err) {
    process.nextTick(callback, err as NodeJS.ErrnoException);
    return;
  }
  process.nextTick(callback, null, value);
}

export const lockfileFs = {
  mkdir: (path: string, callback: Callback<void>) => answer(callback, () => { mkdirSync(path); }),
  stat: (path: string, callback: Callback<Stats>) => answer(callback, () => statSync(path)),
  utimes: (path: string, atime: Date | number, mtime: Date | number, callback: Callback<void>) => answer(callback, () => utimesSync(path, atime, mtime)),
  rmdir: (path: string, callback: Callback<void>) => answer(callback, () => rmdirSync(path)),
  realpath: (path: string, callback: Callback<string>) => answer(callback, () => realpathSync(path)),
  rmdirSync,
};
