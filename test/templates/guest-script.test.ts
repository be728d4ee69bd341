// The guest-side script (templates/guest/vif-nat-dns-guest) under dash and busybox sh: it decodes a MAC exactly as dom0's TypeScript encodes it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ipToMac, macToIp } from '../../src/core/mac-encoding';
import { decode, dom0Address, encode, maxMachine, parseScheme, type Scheme } from '../../src/core/scheme';
import { formatIPv4 } from '../../src/core/ipv4';
import { seededRandom } from '../harness/random';

const SCRIPT = join(__dirname, '..', '..', 'templates', 'guest', 'vif-nat-dns-guest');
const SHELLS = ['dash', 'busybox sh'];
const PATH = process.env.PATH ?? '/usr/bin:/bin';
const dir = mkdtempSync(join(tmpdir(), 'vnd-guest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function guestDecode(shell: string, mac: string, network: string, prefix: string): Promise<string | undefined> {
  const config = join(dir, `${network.replace(/\W/g, '_')}-${prefix.replace(/\W/g, '_')}.conf`);
  writeFileSync(config, `# test\nNETWORK=${network}\nMAC_PREFIX="${prefix}"\n`);
  try {
    const [file, ...args] = shell.split(' ');
    const { stdout } = await promisify(execFile)(file!, [...args, SCRIPT, '--decode-mac', mac], { env: { PATH, VIF_NAT_DNS_GUEST_CONFIG: config } });
    return stdout.trim();
  } catch (err) {
    const { code, stderr } = err as { code: number; stderr: string };
    if (code !== 1 || !stderr.startsWith('vif-nat-dns-guest: ')) throw err;
    return undefined;
  }
}

/** What dom0's code says the guest with this MAC should use, or undefined where it encodes no guest address. */
function expected(mac: string, scheme: Scheme, prefix: string): string | undefined {
  let ip: string;
  try {
    ip = macToIp(mac, scheme.network >>> 24, prefix);
  } catch {
    return undefined;
  }
  const addr = decode(scheme, ip);
  if (!addr || addr.side !== 'vm') return undefined;
  return `ip=${ip} prefix=${scheme.prefixLength} gateway=${dom0Address(scheme, addr.machine, addr.y)}`;
}

const random = seededRandom();
const hex = () => random.int(0, 255).toString(16).padStart(2, '0');
function cases(network: string, prefix: string): string[] {
  const scheme = parseScheme(network);
  const macs: string[] = [];
  for (let i = 0; i < 6; i++) {
    const ip = formatIPv4(encode(scheme, { machine: random.int(1, maxMachine(scheme)), y: random.int(1, 127), side: 'vm' }));
    macs.push(ipToMac(ip, prefix)); // as reserve / mac-for pin them
  }
  const first = formatIPv4(encode(scheme, { machine: 1, y: 1, side: 'vm' }));
  const last = formatIPv4(encode(scheme, { machine: maxMachine(scheme), y: 127, side: 'vm' }));
  macs.push(ipToMac(first, prefix), ipToMac(last, prefix).toUpperCase(), ipToMac(formatIPv4(encode(scheme, { machine: 1, y: 1, side: 'dom0' })), prefix));
  macs.push(`${prefix}:${hex()}:${hex()}:${hex()}`, `${prefix}:${hex()}:${hex()}:00`, `${prefix}:00:00:01`, `${prefix}:ff:ff:ff`, '52:54:00:00:01:01', '00:16:3e:0a', 'not-a-mac');
  return macs;
}

describe.each(SHELLS)(`vif-nat-dns-guest --decode-mac under %s (seed ${random.seed})`, (shell) => {
  it.each([
    ['10.0.0.0/8', '00:16:3e'],
    ['10.198.0.0/16', '00:16:3e'],
    ['172.16.0.0/12', '02:00:00'],
    ['192.168.0.0/16', '02:00:00'],
    ['10.240.0.0/20', '00:16:3e'],
  ])('agrees with dom0\'s encoder on %s (MAC prefix %s)', async (network, prefix) => {
    const scheme = parseScheme(network);
    let addresses = 0;
    for (const mac of cases(network, prefix)) {
      const want = expected(mac, scheme, prefix);
      if (want) addresses++;
      expect(await guestDecode(shell, mac, network, prefix), `${mac} on ${network}`).toBe(want);
    }
    expect(addresses).toBeGreaterThanOrEqual(8); // the pinned ones, both ends of the range

  });
});

describe('vif-nat-dns-guest configuration and usage', () => {
  it.each(SHELLS)('under %s: refuses a bad config file, naming the line, and a usage error exits 2', async (shell) => {
    const run = (config: string, args: string[]) => {
      const conf = join(dir, 'bad.conf');
      writeFileSync(conf, config);
      const [file, ...shellArgs] = shell.split(' ');
      return promisify(execFile)(file!, [...shellArgs, SCRIPT, ...args], { env: { PATH, VIF_NAT_DNS_GUEST_CONFIG: conf } }).then(() => ({ code: 0, stderr: '' }), (err) => err as { code: number; stderr: string });
    };
    expect(await run('NETWORK=10.0.0.0/8\nREBOOT=now\n', ['--decode-mac', '00:16:3e:00:01:01'])).toMatchObject({ code: 1, stderr: expect.stringContaining('bad.conf:2: unknown key REBOOT') });
    expect(await run('NETWORK=10.0.0.0/24\n', ['--decode-mac', '00:16:3e:00:01:01'])).toMatchObject({ code: 1, stderr: expect.stringContaining('8..20') });
    expect(await run('NETWORK=10.0.0.1/8\n', ['--decode-mac', '00:16:3e:00:01:01'])).toMatchObject({ code: 1, stderr: expect.stringContaining('host bits') });
    expect(await run('NETWORK=$(reboot)\n', ['--decode-mac', '00:16:3e:00:01:01'])).toMatchObject({ code: 1 });
    expect(await run('', [])).toMatchObject({ code: 2 });
    expect(await run('', ['eth0', 'eth1'])).toMatchObject({ code: 2 });
    expect(await run('', ['--help'])).toMatchObject({ code: 0 });
  });
});

describe('the shipped guest files', () => {
  it('the example config states the defaults and is accepted', async () => {
    const shipped = join(__dirname, '..', '..', 'templates', 'guest', 'vif-nat-dns-guest.conf');
    const { stdout } = await promisify(execFile)('dash', [SCRIPT, '--decode-mac', '00:16:3e:00:01:01'], { env: { PATH, VIF_NAT_DNS_GUEST_CONFIG: shipped } });
    expect(stdout).toBe('ip=10.0.1.1 prefix=8 gateway=10.0.1.129\n');
  });

  it.each([
    [{ IF_VIF_NAT_DNS: 'yes', MODE: 'start' }, 'configure eth3\n'],
    [{ IF_VIF_NAT_DNS: 'yes' }, 'configure eth3\n'],
    [{ IF_VIF_NAT_DNS: 'yes', MODE: 'stop' }, ''],
    [{ MODE: 'start' }, ''],
    [{ IF_VIF_NAT_DNS: 'no', MODE: 'start' }, ''],
  ])('the ifupdown pre-up hook with %j runs the script only for stanzas that ask for it', async (env, output) => {
    const fake = join(dir, 'fake-guest-script');
    writeFileSync(fake, '#!/bin/sh\necho "configure $1"\n', { mode: 0o755 });
    const hook = join(__dirname, '..', '..', 'templates', 'guest', 'ifupdown-pre-up');
    const { stdout } = await promisify(execFile)('busybox', ['sh', hook], { env: { PATH, IFACE: 'eth3', VIF_NAT_DNS_GUEST: fake, ...env } });
    expect(stdout).toBe(output);
  });
});
