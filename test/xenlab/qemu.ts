// The QEMU command line that boots the lab: Debian's Xen (multiboot), a PV dom0 whose root is this machine's / over
// read-only 9p, a writable 9p share for results, and no network device at all.
export interface QemuLabSpec {
  readonly images: string; // build-images.sh's directory
  readonly resultsDir: string;
  readonly memoryMiB: number; // the whole emulated machine
  readonly dom0MemoryMiB: number;
  readonly dom0Env: Readonly<Record<string, string>>; // KEY=VALUE words on dom0's command line reach its init
}

/** One multiboot module: QEMU separates modules with commas, so a comma inside the arguments is written ",,". */
export function multibootModule(path: string, args: readonly string[] = []): string {
  return [path, ...args].join(' ').replaceAll(',', ',,');
}

export function kernelWords(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([key, value]) => {
    if (!/^[a-z_][a-z0-9_]*$/i.test(key) || /[\s"]/.test(value) || value === '') throw new Error(`cannot pass ${key}=${JSON.stringify(value)} on a kernel command line`);
    return `${key}=${value}`;
  });
}

/** SVM with nested paging (NPT): Xen then has HAP, which HVM guests need (Debian's Xen has no shadow paging: with a
 *  plain qemu64, libxl says "neither hap nor shadow paging available"). */
const LAB_CPU = 'qemu64,+svm,+npt';

export function qemuArgs(spec: QemuLabSpec): string[] {
  const xen = ['console=com1', 'com1=115200,8n1', `dom0_mem=${spec.dom0MemoryMiB}M,max:${spec.dom0MemoryMiB}M`, 'dom0_max_vcpus=2', 'noreboot'];
  const dom0 = multibootModule(`${spec.images}/vmlinuz`, ['console=hvc0', 'loglevel=4', ...kernelWords(spec.dom0Env)]);
  return [
    '-machine', 'q35', '-accel', 'tcg,thread=multi', '-cpu', LAB_CPU, '-smp', '2', '-m', String(spec.memoryMiB),
    '-nic', 'none', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', `${spec.images}/xen.elf`, '-append', xen.join(' '),
    '-initrd', `${dom0},${multibootModule(`${spec.images}/dom0-initrd.cpio.gz`)}`,
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${spec.resultsDir.replaceAll(',', ',,')},mount_tag=results,security_model=none,multidevs=remap`,
  ];
}
