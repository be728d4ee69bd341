import { describe, expect, it } from 'vitest';
import { adminManPage, bundledPackageDirs, changelogEntry, changelogVersion, copyrightFile, copyrightNotices, hookManPage, roffVerbatim } from '../../packaging/docs';
import { commands } from '../../src/cli/main';

describe('man pages from --help', () => {
  it.each([
    ['plain', 'list [--json]', '.nf\nlist [\\-\\-json]\n.fi\n'],
    ['backslash', 'a\\b', '.nf\na\\eb\n.fi\n'],
    ['a line that would be a request', '.TH x\n\'br', '.nf\n\\&.TH x\n\\&\'br\n.fi\n'],
    ['trailing newlines', 'x\n\n\n', '.nf\nx\n.fi\n'],
  ])('roffVerbatim: %s', (_, text, roff) => {
    expect(roffVerbatim(text)).toBe(roff);
  });

  it('the admin page has every command\'s --help, the hook page the hook\'s', () => {
    const meta = { version: '1.0', date: '2026-11-21' };
    const all = commands('/nonexistent');
    const admin = adminManPage(all, meta);
    expect(admin).toMatch(/^\.TH VIF-NAT-DNS-ADMIN 8 "2026-11-21" "vif-nat-dns 1\.0"/);
    for (const command of all) expect(admin).toContain(`.SS ${command.name}\n`);
    expect(admin).toContain('regen\\-ethers [\\-\\-dry\\-run]');
    const hook = hookManPage('network-nat-dns start|stop|status: host-wide part', meta);
    expect(hook).toContain('vif\\-nat\\-dns online|offline [type_if=vif]');
    expect(hook).toContain('network\\-nat\\-dns start|stop|status: host\\-wide part');
  });
});

describe('changelog', () => {
  it('an entry in Debian\'s format, wrapped, whose version reads back', () => {
    const entry = changelogEntry({ version: '0.2.0', changes: [`${'word '.repeat(20)}end`], maintainer: 'A <a@example.org>', date: 'Sat, 21 Nov 2026 19:30:00 +0000' });
    expect(entry).toBe(`vif-nat-dns (0.2.0) unstable; urgency=medium\n\n  * ${'word '.repeat(14).trim()}\n    ${'word '.repeat(6)}end\n\n -- A <a@example.org>  Sat, 21 Nov 2026 19:30:00 +0000\n`);
    expect(changelogVersion(entry)).toBe('0.2.0');
    expect(changelogVersion('nonsense')).toBeUndefined();
  });
});

describe('copyright', () => {
  it.each([
    ['a top-level package', '// node_modules/execa/lib/index.js', ['node_modules/execa']],
    ['through the worktree symlink', '// ../../main/node_modules/ipaddr.js/lib/ipaddr.js', ['../../main/node_modules/ipaddr.js']],
    ['a scoped package', '// node_modules/@sec-ant/readable-stream/dist/x.js', ['node_modules/@sec-ant/readable-stream']],
    ['nested in another', '// node_modules/proper-lockfile/node_modules/signal-exit/index.js', ['node_modules/proper-lockfile/node_modules/signal-exit']],
    ['our own sources and code', '// src/hook/main.ts\nconst a = "// node_modules/x/y.js";', []],
  ])('bundledPackageDirs: %s', (_, bundle, dirs) => {
    expect(bundledPackageDirs(bundle)).toEqual(dirs);
  });

  it.each([
    ['one line', 'MIT License\n\nCopyright (c) 2018 A <a@x>\n\nPermission ... the above copyright notice', ['Copyright (c) 2018 A <a@x>']],
    ['holders on the next lines', 'Copyright (c) 2011:\nTim K (tim@x)\nFelix G (felix@x)\n\n Permission', ['Copyright (c) 2011: Tim K (tim@x), Felix G (felix@x)']],
    ['several, indented, ©', '  Copyright © 2020 A\n  Copyright 2021 B\n', ['Copyright © 2020 A', 'Copyright 2021 B']],
    ['none (a heading is no notice)', '# Licence\n## Copyright\nEach contributor licenses you', []],
  ])('copyrightNotices: %s', (_, text, notices) => {
    expect(copyrightNotices(text)).toEqual(notices);
  });

  it('names each package and licence once, in Debian\'s names, with the texts', () => {
    const text = copyrightFile({ license: 'MIT', copyright: '2026 us' }, [
      { name: 'a', version: '1.0.0', license: 'MIT', copyright: 'Copyright (c) A' },
      { name: 'b', version: '2.0.0', license: 'ISC', copyright: 'Copyright (c) B' },
      { name: 'c', version: '3.0.0', license: 'BlueOak-1.0.0', copyright: 'the c authors', licenseText: '# Blue Oak\n\nText here.\n' },
    ]);
    expect(text).toContain('Files: *\nCopyright: 2026 us\nLicense: Expat\n');
    expect(text).toContain('Copyright: 2026 us\n Copyright (c) A\n Copyright (c) B\n the c authors\nLicense: Expat and ISC and BlueOak-1.0.0\n');
    expect(text).toContain(' a 1.0.0 (Expat)\n b 2.0.0 (ISC)\n c 3.0.0 (BlueOak-1.0.0)\n');
    expect(text).toContain('License: BlueOak-1.0.0\n # Blue Oak\n .\n Text here.\n');
    expect(text.match(/^License: Expat$/gm)).toHaveLength(2); // Files: * and the text stanza
  });

  it('refuses a licence it has no text for', () => {
    expect(() => copyrightFile({ license: 'MIT', copyright: 'us' }, [{ name: 'x', version: '1', license: 'GPL-3.0', copyright: 'X' }])).toThrow(/no licence text for GPL-3\.0 \(x\)/);
  });
});
