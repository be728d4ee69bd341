// Parse a toolstack's invocation (argv + environment) into the one event the hook must handle; KEY=VALUE arguments are data, never evaluated.
import { VifError } from '../core/errors';

export type Command = 'online' | 'offline' | 'add' | 'remove';
export type TypeIf = 'vif' | 'tap';

export type Event =
  | { readonly kind: 'help' }
  | { readonly kind: 'noop'; readonly reason: string }
  | {
      readonly kind: 'up' | 'down';
      readonly command: Command;
      readonly typeIf: TypeIf;
      readonly xenbusPath: string; // absolute
      readonly device: string; // vif<D>.<N> or, for tap, vif<D>.<N>-emu
      readonly netdev: string; // may be empty
    };

const COMMANDS: readonly Command[] = ['online', 'offline', 'add', 'remove'];
const DEVICE = /^[A-Za-z0-9_.:-]{1,15}$/;

export function parseInvocation(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Event {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return { kind: 'help' };
  if (!COMMANDS.includes(command as Command)) {
    throw new VifError('USAGE', `unknown command ${JSON.stringify(command.slice(0, 40))}`, `use one of ${COMMANDS.join(', ')} (see --help)`, { command });
  }
  const args = new Map<string, string>();
  for (const arg of rest) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new VifError('USAGE', `argument ${JSON.stringify(arg.slice(0, 40))} is not KEY=VALUE`, 'the toolstack passes only type_if=vif|tap', { arg });
    args.set(arg.slice(0, eq), arg.slice(eq + 1));
  }
  const typeIf = args.get('type_if') ?? 'vif';
  if (typeIf !== 'vif' && typeIf !== 'tap') {
    throw new VifError('USAGE', `type_if=${JSON.stringify(typeIf.slice(0, 20))} is neither vif nor tap`, 'xl passes type_if=vif or type_if=tap', { typeIf });
  }
  const acts = typeIf === 'vif' ? ['online', 'offline'] : ['add', 'remove'];
  if (!acts.includes(command)) return { kind: 'noop', reason: `${command} is not acted on for type_if=${typeIf}` };

  const deviceVar = typeIf === 'vif' ? 'vif' : 'INTERFACE';
  const missing = ['XENBUS_PATH', deviceVar].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new VifError('MISSING_ENV', `missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      'this script is run by xl/libxl or xend with XENBUS_PATH and vif set; to run it by hand, export them', { missing });
  }
  const device = env[deviceVar]!;
  if (!DEVICE.test(device)) {
    throw new VifError('USAGE', `${deviceVar}=${JSON.stringify(device.slice(0, 40))} is not a network device name`, 'expected vif<domid>.<devid>', { device });
  }
  const xenbusPath = resolveXenbusPath(env.XENBUS_PATH!);
  return { kind: command === 'online' || command === 'add' ? 'up' : 'down', command: command as Command, typeIf, xenbusPath, device, netdev: env.netdev ?? '' };
}

/** xl passes backend/vif/<domid>/<devid>, relative to dom0's home /local/domain/0; xend passes an absolute path. */
export function resolveXenbusPath(path: string): string {
  if (!/^[A-Za-z0-9_/.-]+$/.test(path) || path.includes('..') || path.includes('//')) {
    throw new VifError('USAGE', `XENBUS_PATH=${JSON.stringify(path.slice(0, 80))} is not a xenstore path`, 'expected backend/vif/<domid>/<devid>', { path });
  }
  return path.startsWith('/') ? path.replace(/\/+$/, '') : `/local/domain/0/${path.replace(/\/+$/, '')}`;
}
