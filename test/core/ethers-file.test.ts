import { describe, expect, it } from 'vitest';
import { parseEthers, renderEthers } from '../../src/core/ethers-file';

describe('ethers file', () => {
  it.each([
    ['ours and others', '00:16:3e:00:00:01 10.0.1.1\n08:00:20:00:61:ca pluto\n'],
    ['comments and blanks', '# managed\n\n  # indented\n00:16:3e:00:00:01 10.0.1.1\n'],
    ['CRLF, no newline', '00:16:3e:00:00:01 10.0.1.1\r\n8:0:20:1:2:3 10.0.2.1'],
    ['junk', 'not a mac 10.0.1.1\n00:16:3e:00:00:01 10.0.1.1 extra\n\0\n'],
  ])('renders %s byte for byte', (_, text) => {
    expect(renderEthers(parseEthers(text))).toBe(text);
  });

  it('normalises MACs and reads only two-field lines as entries', () => {
    const ethers = parseEthers('8:0:20:1:2:3 10.0.2.1\n00:16:3E:00:00:01 pluto\n00:16:3e:00:00:02 10.0.1.1 # no inline comments\n');
    expect(ethers.entries.map((e) => [e.mac, e.target, e.ipv4 !== undefined])).toEqual([
      ['08:00:20:01:02:03', '10.0.2.1', true],
      ['00:16:3e:00:00:01', 'pluto', false],
    ]);
  });
});
