// Stands in for signal-exit, proper-lockfile's dependency, in the hook's bundle (esbuild --alias in the build): its release on
// a signal cannot remove a lock directory holding our owner record anyway, and a dead holder's lock is taken over at once
// (edges/lock.ts). The real one registers a handler per signal and evaluates node:assert: ~5 ms of every event (bench/).
// Both call shapes: signal-exit 3's default export (proper-lockfile) and 4's named onExit (execa, in the benchmark's A/B build).
function onExit(callback: () => void): () => void {
  process.once('exit', callback);
  return () => {
    process.removeListener('exit', callback);
  };
}

export = Object.assign(onExit, { onExit });
