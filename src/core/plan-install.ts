// Plan of install/uninstall: never overwrite or remove a file the administrator changed (tracked by a manifest of hashes).

export interface InstallItem {
  readonly target: string; // absolute path, DESTDIR applied
  readonly hash: string; // sha256 of the new content
  readonly mode: number;
}

export type InstallAction =
  | { readonly kind: 'write'; readonly item: InstallItem; readonly reason: 'new' | 'update' }
  | { readonly kind: 'same'; readonly item: InstallItem }
  | { readonly kind: 'keep-changed'; readonly item: InstallItem; readonly distPath: string };

/** manifest: path -> hash we installed last time; current: path -> hash on disk now (absent: no file). */
export function planInstall(items: readonly InstallItem[], current: ReadonlyMap<string, string>, manifest: ReadonlyMap<string, string>): InstallAction[] {
  return items.map((item) => {
    const onDisk = current.get(item.target);
    if (onDisk === undefined) return { kind: 'write', item, reason: 'new' };
    if (onDisk === item.hash) return { kind: 'same', item };
    if (manifest.get(item.target) === onDisk) return { kind: 'write', item, reason: 'update' }; // ours, unchanged since
    return { kind: 'keep-changed', item, distPath: `${item.target}.dist` };
  });
}

export type UninstallAction = { readonly kind: 'remove' | 'keep-changed' | 'gone'; readonly path: string };

export function planUninstall(current: ReadonlyMap<string, string>, manifest: ReadonlyMap<string, string>): UninstallAction[] {
  return [...manifest].map(([path, hash]) => {
    const onDisk = current.get(path);
    if (onDisk === undefined) return { kind: 'gone', path };
    return { kind: onDisk === hash ? 'remove' : 'keep-changed', path };
  });
}
