// Hostile and broken input: odd domain names, bad MACs and numbers, bad ip nodes, guest-written nodes, and odd or huge files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../harness/sandbox';
import { testMac } from '../harness/xen-domain';

let box: Sandbox;
let domid = 300;
beforeAll(async () => { box = await Sandbox.create(); await box.startDnsmasq(); });
afterAll(async () => { await box?.destroy(); });

const files = async () => ({ hosts: await box.dom0File('/etc/hosts'), ethers: await box.dom0File('/etc/ethers') });
const nextMac = () => testMac(0xbb, domid);

async function online(name: string, nodes: Record<string, string> = {}, mac = nextMac()) {
  const id = domid++;
  const guest = await box.addGuest(id, name, [mac], { headless: true });
  for (const [node, value] of Object.entries(nodes)) {
    if (value === '') box.xs.rm(`/local/domain/0/backend/vif/${id}/0/${node}`);
    else box.xs.write(node.startsWith('/') ? node.replace('<domid>', String(id)) : `/local/domain/0/backend/vif/${id}/0/${node}`, value);
  }
  const result = await box.runHook(guest.vifs[0]!, 'online');
  return { ...result, id, mac, error: box.xs.read(`/local/domain/0/backend/vif/${id}/0/hotplug-error`) };
}

describe('hostile domain names', () => {
  it.each([
    ['evil\n10.0.0.1 gateway', 'evil-10-0-0-1-gateway'],
    ['a b\tc', 'a-b-c'],
    ['x#y', 'x-y'],
    ['$(reboot);`id`|&>', 'reboot---id'],
    ['ünïcödé-vm', 'n-c-d--vm'],
    ['a'.repeat(300), 'a'.repeat(63)],
    ['n'.repeat(1000), 'n'.repeat(63)],
  ])('%j becomes the one legal line %s', async (name, hostname) => {
    const before = await files();
    const result = await online(name);
    expect(result.code, result.stderr).toBe(0);
    const after = await files();
    const addedHosts = after.hosts.slice(before.hosts.length);
    expect(addedHosts).toMatch(new RegExp(`^10\\.\\d+\\.\\d+\\.1\\t${hostname}\\n$`));
    expect(after.ethers.slice(before.ethers.length)).toBe(`${result.mac} ${addedHosts.split('\t')[0]}\n`);
  });

  it('a name that cannot be made legal is refused clearly', async () => {
    const before = await files();
    const result = await online('### ___');
    expect(result.code).toBe(1);
    expect(result.error).toMatch(/has no letters or digits/);
    expect(await files()).toEqual(before);
  });

  it('a name that sanitises to a running guest\'s hostname never shares its address', async () => {
    const first = await online('Shared_Name');
    expect(first.code).toBe(0);
    const second = await online('shared.name');
    expect(second.code).toBe(1);
    expect(second.error).toMatch(/still up/);
  });
});

describe('broken backend nodes', () => {
  it.each([
    ['malformed MAC', { mac: 'zz:16:3e:00:00:01' }, /not six colon-separated hex octets/],
    ['multicast MAC', { mac: '01:00:5e:00:00:01' }, /multicast/],
    ['all-zero MAC', { mac: '00:00:00:00:00:00' }, /all zeros/],
    ['no MAC', { mac: '' }, /no MAC address/],
    ['a MAC of 4000 bytes', { mac: 'a'.repeat(4000) }, /4000 bytes long/],
    ['non-numeric handle', { handle: 'abc' }, /handle = "abc" is not an integer/],
    ['handle out of range', { handle: '200' }, /0\.\.126/],
    ['frontend-id out of range', { 'frontend-id': '99999999' }, /frontend-id = "99999999"/],
    ['several addresses in ip', { ip: '10.0.50.1 10.0.51.1' }, /not exactly one IPv4 address/],
    ['an octal-looking ip', { ip: '010.0.50.1' }, /not exactly one IPv4 address/],
    ['an ip outside the scheme', { ip: '192.168.1.10' }, /not a VM address of 10\.0\.0\.0\/8/],
  ])('%s: refused, reported, files unchanged', async (_, nodes, error) => {
    const before = await files();
    const result = await online('broken', nodes);
    expect(result.code).toBe(1);
    expect(result.error).toMatch(error);
    expect(box.xs.read(`/local/domain/0/backend/vif/${result.id}/0/hotplug-status`)).toBe('error');
    expect(await files()).toEqual(before);
  });

  it('a MAC already used by a running guest is refused', async () => {
    const first = await online('mac-owner');
    expect(first.code).toBe(0);
    const dup = await online('mac-copier', {}, first.mac);
    expect(dup.code).toBe(1);
    expect(dup.error).toMatch(/already used by the running vif/);
  });

  it('a valid ip node is used and recorded', async () => {
    const result = await online('pinned', { ip: '10.0.200.1' });
    expect(result.code).toBe(0);
    expect(await box.dom0File('/etc/hosts')).toContain('10.0.200.1\tpinned\n');
  });

  it('values a guest can write under its own subtree change nothing', async () => {
    const mac = nextMac();
    const result = await online('trusting', {
      '/local/domain/<domid>/device/vif/0/mac': '00:16:3e:66:66:66',
      '/local/domain/<domid>/device/vif/0/ip': '10.0.1.1',
      '/local/domain/<domid>/data/hostname': 'guestchosen',
      '/local/domain/<domid>/domain': 'guestchosen',
    }, mac);
    expect(result.code).toBe(0);
    const { hosts, ethers } = await files();
    expect(hosts).toMatch(/\ttrusting\n/);
    expect(hosts).not.toContain('guestchosen');
    expect(ethers).toContain(`${mac} `);
    expect(ethers).not.toContain('66:66:66');
  });
});

describe('odd and huge files', () => {
  it('CRLF, no final newline, NUL bytes, duplicates and IPv6 lines come back byte for byte', async () => {
    const odd = '127.0.0.1 localhost\r\n::1 ip6-localhost\r\n# comment \0 with NUL\n10.0.250.1 dup\n10.0.250.1 dup\n\t  spaced\t  line  \nlast line no newline';
    await box.writeDom0File('/etc/hosts', odd);
    await box.writeDom0File('/etc/ethers', '# ethers\r\n08:00:20:00:00:01 pluto\n\0junk\nno-newline');
    const result = await online('oddfiles');
    expect(result.code, result.stderr).toBe(0);
    const { hosts, ethers } = await files();
    expect(hosts.startsWith(`${odd}\n`)).toBe(true);
    expect(hosts.slice(odd.length + 1)).toMatch(/^10\.0\.\d+\.1\toddfiles\n$/);
    expect(ethers.startsWith('# ethers\r\n08:00:20:00:00:01 pluto\n\0junk\nno-newline\n')).toBe(true);
  });

  it('a symlinked /etc/hosts is written through to its target and stays a symlink', async () => {
    await box.inDom0(['sh', '-c', 'mkdir -p /etc/hosts.d && mv /etc/hosts /etc/hosts.d/real && ln -s hosts.d/real /etc/hosts']);
    const result = await online('through-link');
    expect(result.code, result.stderr).toBe(0);
    expect((await box.inDom0(['readlink', '/etc/hosts'])).stdout.trim()).toBe('hosts.d/real');
    expect(await box.dom0File('/etc/hosts.d/real')).toMatch(/\tthrough-link\n$/);
  });

  it('a 100,000-line /etc/hosts is preserved and still fast enough', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) lines.push(i % 3 === 0 ? `10.${(i >> 8) & 255}.${i & 255}.1\thuge-${i}` : `192.168.${(i >> 8) & 255}.${i & 255}\tother-${i} alias-${i}`);
    const big = `${lines.join('\n')}\n`;
    await box.writeDom0File('/etc/hosts', big);
    const result = await online('after-huge');
    expect(result.code, result.stderr).toBe(0);
    const hosts = await box.dom0File('/etc/hosts');
    expect(hosts.startsWith(big)).toBe(true);
    expect(hosts.slice(big.length)).toMatch(/^10\.\d+\.\d+\.1\tafter-huge\n$/);
  });
});
