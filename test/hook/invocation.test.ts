import { describe, expect, it } from 'vitest';
import { parseInvocation, resolveXenbusPath } from '../../src/hook/invocation';

const xlEnv = { XENBUS_PATH: 'backend/vif/5/0', vif: 'vif5.0', netdev: '' };

describe('parseInvocation', () => {
  it.each([
    ['xl online', ['online', 'type_if=vif'], xlEnv, { kind: 'up', typeIf: 'vif', device: 'vif5.0', xenbusPath: '/local/domain/0/backend/vif/5/0' }],
    ['xl offline', ['offline', 'type_if=vif'], xlEnv, { kind: 'down', typeIf: 'vif' }],
    ['xend online (no type_if, absolute path)', ['online'], { XENBUS_PATH: '/local/domain/0/backend/vif/5/0', vif: 'vif5.0' }, { kind: 'up', xenbusPath: '/local/domain/0/backend/vif/5/0' }],
    ['vif add is a no-op', ['add', 'type_if=vif'], xlEnv, { kind: 'noop' }],
    ['vif remove is a no-op', ['remove', 'type_if=vif'], {}, { kind: 'noop' }],
    ['tap add acts on INTERFACE', ['add', 'type_if=tap'], { XENBUS_PATH: 'backend/vif/5/0', INTERFACE: 'vif5.0-emu' }, { kind: 'up', typeIf: 'tap', device: 'vif5.0-emu' }],
    ['tap online is a no-op', ['online', 'type_if=tap'], {}, { kind: 'noop' }],
    ['--help', ['--help'], {}, { kind: 'help' }],
    ['no arguments', [], {}, { kind: 'help' }],
    ['arguments are data', ['online', 'type_if=vif', 'x=$(reboot)'], xlEnv, { kind: 'up' }],
  ])('%s', (_, argv, env, expected) => {
    expect(parseInvocation(argv, env)).toMatchObject(expected);
  });

  it.each([
    ['unknown command', ['start'], xlEnv, /unknown command "start"/],
    ['not KEY=VALUE', ['online', 'vif'], xlEnv, /not KEY=VALUE/],
    ['bad type_if', ['online', 'type_if=bridge'], xlEnv, /neither vif nor tap/],
    ['all missing variables named at once', ['online'], {}, /missing environment variables XENBUS_PATH, vif/],
    ['tap needs INTERFACE', ['add', 'type_if=tap'], { XENBUS_PATH: 'backend/vif/5/0' }, /INTERFACE/],
    ['device name with a slash', ['online'], { XENBUS_PATH: 'backend/vif/5/0', vif: '../etc' }, /not a network device name/],
    ['path traversal', ['online'], { XENBUS_PATH: 'backend/../../x', vif: 'vif5.0' }, /not a xenstore path/],
  ])('refuses %s', (_, argv, env, error) => {
    expect(() => parseInvocation(argv, env)).toThrow(error);
  });

  it('resolves relative paths against dom0\'s home', () => {
    expect(resolveXenbusPath('backend/vif/1/2/')).toBe('/local/domain/0/backend/vif/1/2');
  });
});
