// Owner records and the abandoned-lock verdict: a live holder keeps its lock however old its mtime; a dead one loses it at once.
import { describe, expect, it } from 'vitest';
import { lockVerdict, parseOwner, parseProcStartTime, renderOwner, type LockSighting } from '../../src/core/lock-owner';

const owner = { pid: 4242, start: '987654', pidns: 'pid:[4026531836]', token: 'abc.def.123' };

describe('owner record', () => {
  it('round-trips what a holder writes', () => {
    expect(parseOwner(renderOwner(owner))).toEqual(owner);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['torn (no final newline)', renderOwner(owner).slice(0, -1)],
    ['torn mid-field', 'pid=4242 start=98\n'],
    ['pid not a number', 'pid=x start=1 pidns=pid:[1] token=t\n'],
    ['pid zero', 'pid=0 start=1 pidns=pid:[1] token=t\n'],
    ['pid with leading zero', 'pid=042 start=1 pidns=pid:[1] token=t\n'],
    ['extra field', 'pid=1 start=1 pidns=pid:[1] token=t more=1\n'],
    ['a field twice instead of another', 'pid=1 start=1 pidns=pid:[1] pidns=pid:[2]\n'],
    ['word without =', 'pid=1 start=1 pidns=pid:[1] token\n'],
    ['odd characters', 'pid=1 start=1 pidns=pid:[1] token=a/b\n'],
  ])('rejects a record that is %s', (_, text) => {
    expect(parseOwner(text)).toBeUndefined();
  });
});

describe('parseProcStartTime', () => {
  const tail = 'S 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 55555 1000 10';
  it.each([
    ['a plain command name', `123 (node) ${tail}`, '55555'],
    ['a name with spaces and parentheses', `123 (a) b (c) ${tail}`, '55555'],
    ['no closing parenthesis', `123 node ${tail}`, undefined],
    ['too few fields', '123 (node) S 1 1', undefined],
  ])('%s', (_, stat, expected) => {
    expect(parseProcStartTime(stat)).toBe(expected);
  });
});

describe('lockVerdict', () => {
  const base: LockSighting = { record: owner, ourPidNs: owner.pidns, liveStart: owner.start, ageMs: 100, staleMs: 3000 };
  it.each<[string, Partial<LockSighting>, 'held' | 'abandoned']>([
    ['recorded holder alive, lock fresh', {}, 'held'],
    ['recorded holder alive, starved for a minute (mtime not refreshed)', { ageMs: 60_000 }, 'held'],
    ['recorded holder gone, lock fresh', { liveStart: undefined }, 'abandoned'],
    ['recorded pid reused by another process', { liveStart: '1' }, 'abandoned'],
    ['no record yet, lock fresh (holder between mkdir and its record)', { record: undefined, liveStart: undefined }, 'held'],
    ['no record, older than the stale time', { record: undefined, liveStart: undefined, ageMs: 3001 }, 'abandoned'],
    ['record from another PID namespace, fresh', { ourPidNs: 'pid:[1]', liveStart: undefined }, 'held'],
    ['record from another PID namespace, older than the stale time', { ourPidNs: 'pid:[1]', liveStart: undefined, ageMs: 5000 }, 'abandoned'],
  ])('%s: %s', (_, change, verdict) => {
    expect(lockVerdict({ ...base, ...change })).toBe(verdict);
  });
});
