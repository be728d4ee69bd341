import { describe, expect, it } from 'vitest';
import { decodeRequest, deserializeError, serializeError } from '../../src/core/batch-request';
import { VifError } from '../../src/core/errors';

const online = { kind: 'online', device: 'vif1.0', domainName: 'web', y: 1, mac: '00:16:3e:00:00:01' };
const offline = { kind: 'offline', device: 'vif1.0', y: 1, dom0IpsOnDevice: ['10.0.1.129'], liveAddresses: [['10.0.1.129', ['vif1.0']]] };
const revert = { kind: 'revert', addedHostsLines: ['10.0.1.1\tweb'], addedEthersLines: [], removedEthersLines: [] };

describe('decodeRequest', () => {
  it.each([
    ['online', online],
    ['online with a pinned address', { ...online, pinnedIp: '10.0.4.1' }],
    ['a pool online', { ...online, pool: { hostname: 'web', vmIp: '10.0.3.1', names: [['web', '10.0.3.1'], ['db-2', '10.0.4.2']] } }],
    ['a degraded pool online', { ...online, degraded: 'etcd did not answer' }],
    ['a pool online dropping released names', { ...online, pool: { hostname: 'web', vmIp: '10.0.3.1', names: [], released: [['web', '10.0.1.1']] } }],
    ['offline without name or MAC', offline],
    ['revert', revert],
  ])('accepts %s', (_, value) => {
    expect(decodeRequest(JSON.parse(JSON.stringify(value)))).toEqual(value);
  });

  it.each([
    ['not an object', 'online'],
    ['unknown kind', { ...online, kind: 'rm -rf' }],
    ['a device name with a slash', { ...online, device: '../etc' }],
    ['an upper-case MAC (the hook lowercases)', { ...online, mac: '00:16:3E:00:00:01' }],
    ['interface 0', { ...online, y: 0 }],
    ['an empty domain name', { ...online, domainName: '' }],
    ['a pinned address in octal', { ...online, pinnedIp: '010.0.0.1' }],
    ['a live address that is not one', { ...offline, liveAddresses: [['10.0.1', ['vif1.0']]] }],
    ['a pool name that no hook derives', { ...online, pool: { hostname: 'web', vmIp: '10.0.3.1', names: [['Web Server', '10.0.3.1']] } }],
    ['a pool address that is not one', { ...online, pool: { hostname: 'web', vmIp: '10.0.3', names: [] } }],
    ['pool names that are not pairs', { ...online, pool: { hostname: 'web', vmIp: '10.0.3.1', names: [['web', '10.0.3.1', 'x']] } }],
    ['released names with a line break', { ...online, pool: { hostname: 'web', vmIp: '10.0.3.1', names: [], released: [['web\n10.0.0.1 evil', '10.0.1.1']] } }],
    ['a degraded reason that is not text', { ...online, degraded: { why: 1 } }],
    ['a revert line holding a newline', { ...revert, addedHostsLines: ['10.0.1.1 web\n10.0.2.1 evil'] }],
  ])('rejects %s with BAD_REQUEST', (_, value) => {
    expect(() => decodeRequest(value)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});

describe('errors across the queue', () => {
  it('a VifError comes back with its code, message, hint and details', () => {
    const back = deserializeError(serializeError(new VifError('EXHAUSTED', 'all taken', 'forget some', { max: 3 })));
    expect(back).toBeInstanceOf(VifError);
    expect([back.code, back.message, back.hint, back.details]).toEqual(['EXHAUSTED', 'all taken', 'forget some', { max: 3 }]);
  });

  it('anything else becomes INTERNAL with its message', () => {
    expect(serializeError(new TypeError('x is undefined'))).toMatchObject({ code: 'INTERNAL', message: 'internal error: x is undefined' });
  });
});
