// Stands in for graceful-fs, proper-lockfile's dependency, in the hook's bundle (esbuild --alias in the build): node:fs itself.
// graceful-fs only queues calls past EMFILE, which a hook holding a handful of files never meets; evaluating it (cloning
// and patching fs, loading streams) cost every event ~3 ms (bench/).
import fs = require('node:fs');

export = fs;
