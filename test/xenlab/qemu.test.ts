// The lab's QEMU command line: commas escaped inside multiboot modules, dom0's environment passed as kernel words, no NIC.
import { describe, expect, it } from 'vitest';
import { kernelWords, multibootModule, qemuArgs } from './qemu';

describe('qemu command line', () => {
  it.each([
    [['/i/vmlinuz', []], '/i/vmlinuz'],
    [['/i/vmlinuz', ['console=hvc0', 'a=1,2']], '/i/vmlinuz console=hvc0 a=1,,2'],
    [['/dir,x/initrd', []], '/dir,,x/initrd'],
  ] as const)('multibootModule(%j) = %j', ([path, args], expected) => {
    expect(multibootModule(path, args)).toBe(expected);
  });

  it('passes KEY=VALUE words and refuses values a command line cannot carry', () => {
    expect(kernelWords({ vndlab_repo: '/work/x', n: '20' })).toEqual(['vndlab_repo=/work/x', 'n=20']);
    expect(() => kernelWords({ a: 'two words' })).toThrow(/cannot pass a=/);
    expect(() => kernelWords({ 'a.b': 'x' })).toThrow(/cannot pass/);
    expect(() => kernelWords({ a: '' })).toThrow(/cannot pass/);
  });

  it('gives the machine no network device and the results share writable', () => {
    const args = qemuArgs({ images: '/c', resultsDir: '/tmp/r', memoryMiB: 3072, dom0MemoryMiB: 1024, dom0Env: { x: '1' } });
    expect(args.join(' ')).toContain('-nic none');
    expect(args.filter((a) => a.startsWith('-net') || a.startsWith('-device'))).toEqual([]);
    expect(args[args.indexOf('-initrd') + 1]).toBe('/c/vmlinuz console=hvc0 loglevel=4 x=1,/c/dom0-initrd.cpio.gz');
    expect(args.join(' ')).toMatch(/path=\/,mount_tag=hostroot,security_model=none,readonly=on/);
    expect(args.join(' ')).toMatch(/path=\/tmp\/r,mount_tag=results,security_model=none,multidevs=remap/);
    expect(args[args.indexOf('-append') + 1]).toContain('dom0_mem=1024M,max:1024M');
  });
});
