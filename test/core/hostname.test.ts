import { describe, expect, it } from 'vitest';
import { hostnameFor, isLegalHostname, migrationName, sanitizeLabel } from '../../src/core/hostname';

describe('hostnameFor', () => {
  it.each([
    ['web', 1, 'web'],
    ['web', 2, 'web-2'],
    ['Web_Server', 1, 'web-server'],
    ['--db.prod--', 1, 'db-prod'],
    ['a b\tc\nd', 1, 'a-b-c-d'],
    ['x;rm -rf /#', 1, 'x-rm--rf'],
    ['ünïcode', 1, 'n-code'],
    ['UPPER', 127, 'upper-127'],
    ['a'.repeat(300), 1, 'a'.repeat(63)],
    ['a'.repeat(300), 12, `${'a'.repeat(60)}-12`],
    [`${'a'.repeat(60)}-b`, 3, `${'a'.repeat(60)}-3`],
    ['web--incoming', 1, 'web'],
    ['web--migratedaway', 2, 'web-2'],
    ['Web_Server--incoming', 1, 'web-server'],
    ['web--incoming--incoming', 1, 'web--incoming'],
    ['web-incoming', 1, 'web-incoming'],
    ['web--Incoming', 1, 'web--incoming'],
  ])('%j interface %i -> %s', (name, y, expected) => {
    const hostname = hostnameFor(name, y);
    expect(hostname).toBe(expected);
    expect(isLegalHostname(hostname)).toBe(true);
  });

  it.each(['', '---', '___', 'ü', '\n', '_--migratedaway'])('refuses %j with a clear error', (name) => {
    expect(() => hostnameFor(name, 1)).toThrow(/no letters or digits/);
  });

  it.each([0, 128, 1.5])('refuses interface number %d', (y) => {
    expect(() => hostnameFor('web', y)).toThrow(/outside 1\.\.127/);
  });

  it('never produces leading or trailing dashes', () => {
    expect(sanitizeLabel('-a-')).toBe('a');
    expect(sanitizeLabel('a---', 2)).toBe('a');
  });
});

describe('migrationName', () => {
  it.each([
    ['web', { base: 'web' }],
    ['web--incoming', { base: 'web', role: 'incoming' }],
    ['web--migratedaway', { base: 'web', role: 'migratedaway' }],
    ['--incoming', { base: '--incoming' }], // nothing left before the suffix: not a migration name
    ['web--incomingx', { base: 'web--incomingx' }],
    ['web--migratedaway--incoming', { base: 'web--migratedaway', role: 'incoming' }], // one suffix, the last, as xl adds one
  ])('%j -> %j', (name, expected) => {
    expect(migrationName(name)).toEqual(expected);
  });
});
