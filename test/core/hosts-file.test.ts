import { describe, expect, it } from 'vitest';
import { appendHostsLines, entriesNamed, parseHosts, removeHostsLines, renderHosts } from '../../src/core/hosts-file';

const DEBIAN = `127.0.0.1\tlocalhost
127.0.1.1\tdom0.example.org\tdom0

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
`;

describe('hosts file', () => {
  it.each([
    ['Debian default', DEBIAN],
    ['CRLF and no final newline', '127.0.0.1 localhost\r\n10.0.1.1\tweb'],
    ['odd spacing and inline comments', '  10.0.1.1   web   alias  # pinned\n\t\n#10.0.2.1 old\n'],
    ['NUL bytes and junk', 'garbage line\n10.0.1.1 web\0x\n\xff\xfe\n'],
    ['duplicates', '10.0.1.1 web\n10.0.1.1 web\n'],
  ])('renders %s byte for byte', (_, text) => {
    expect(renderHosts(parseHosts(text))).toBe(text);
  });

  it('matches names by exact field, never by substring', () => {
    const hosts = parseHosts('10.0.1.1 dom1\n10.0.2.1 dom10\n10.0.3.1 dom1-2\n10.0.4.1 xdom1 DOM1x\n');
    expect(entriesNamed(hosts, 'dom1').map((e) => e.address)).toEqual(['10.0.1.1']);
    expect(entriesNamed(hosts, 'DOM1').map((e) => e.address)).toEqual(['10.0.1.1']);
  });

  it('ignores names after an inline comment and lines holding NUL', () => {
    const hosts = parseHosts('10.0.1.1 a # web\n10.0.2.1 web\0\n');
    expect(entriesNamed(hosts, 'web')).toEqual([]);
  });

  it('append and remove keep every other line', () => {
    const hosts = appendHostsLines(parseHosts(DEBIAN.trimEnd()), ['10.0.1.1\tweb']);
    expect(renderHosts(hosts)).toBe(`${DEBIAN}10.0.1.1\tweb\n`);
    const index = hosts.entries.find((e) => e.names.includes('web'))!.index;
    expect(renderHosts(removeHostsLines(hosts, new Set([index])))).toBe(DEBIAN);
  });
});
