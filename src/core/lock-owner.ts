// Who holds the lock: the owner record a holder writes into the lock directory, and when a lock is abandoned (its holder is gone).
// A live holder is never judged abandoned however long it is starved of CPU; the lock's age decides only when the record
// cannot be checked (not written yet, unreadable, or written from another PID namespace).

export interface LockOwner {
  readonly pid: number;
  readonly start: string; // /proc/<pid>/stat's starttime: a reused pid has another
  readonly pidns: string; // readlink /proc/self/ns/pid: a pid means something only in its own namespace
  readonly token: string; // unique per acquisition: the holder checks the record is still its own before it writes
}

const FIELD = /^[A-Za-z0-9:[\]_.-]{1,64}$/;

export function renderOwner(owner: LockOwner): string {
  return `pid=${owner.pid} start=${owner.start} pidns=${owner.pidns} token=${owner.token}\n`;
}

/** The record as a holder wrote it, or undefined for anything else (a torn or foreign file is no evidence of anything). */
export function parseOwner(text: string | undefined): LockOwner | undefined {
  if (text === undefined || !text.endsWith('\n')) return undefined;
  const fields = new Map<string, string>();
  for (const word of text.trimEnd().split(' ')) {
    const eq = word.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(word.slice(0, eq), word.slice(eq + 1));
  }
  const pid = Number(fields.get('pid'));
  const [start, pidns, token] = ['start', 'pidns', 'token'].map((key) => fields.get(key));
  if (fields.size !== 4 || !Number.isSafeInteger(pid) || pid <= 0 || String(pid) !== fields.get('pid')) return undefined;
  if (![start, pidns, token].every((value) => value !== undefined && FIELD.test(value))) return undefined;
  return { pid, start: start!, pidns: pidns!, token: token! };
}

/** Field 22 (starttime) of /proc/<pid>/stat; the command name in field 2 may hold spaces and parentheses. */
export function parseProcStartTime(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).trim().split(/\s+/); // fields[0] is field 3 (state)
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

export interface LockSighting {
  readonly record?: LockOwner; // parsed owner record, if there is one
  readonly ourPidNs: string;
  /** The recorded pid's starttime now: undefined when no such process exists. Only read when the namespaces match. */
  readonly liveStart?: string;
  readonly ageMs: number; // since the lock directory's mtime (proper-lockfile refreshes it while its holder's timers run)
  readonly staleMs: number;
}

export type LockVerdict = 'held' | 'abandoned';

export function lockVerdict(seen: LockSighting): LockVerdict {
  const { record } = seen;
  if (record && record.pidns === seen.ourPidNs) return seen.liveStart === record.start ? 'held' : 'abandoned';
  return seen.ageMs > seen.staleMs ? 'abandoned' : 'held';
}
