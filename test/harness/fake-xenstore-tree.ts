// The test xenstored's tree: nodes with permissions checked as C xenstored checks them (tools/xenstored/core.c), and transactions.
//
// What is modelled, after core.c: dom0 may do anything; a node's owner (first perm entry) may do anything to it;
// another domain gets its own entry's access, else the first entry's. A missing node answers ENOENT only if the
// nearest existing ancestor grants the access asked for, else EACCES (errno_from_parents). New nodes inherit the
// parent's perms and a guest owns what it creates (construct_node). RM needs write on the node only and removes its
// whole subtree; SET_PERMS needs ownership, and a guest may not give a node away (EPERM).
// Transactions work on a copy (made as it is reached): a commit fails with EAGAIN if any node the transaction touched has changed since.

export interface XsNode {
  value: Buffer;
  perms: string[];
  children: Map<string, XsNode>;
  gen: number;
}

export class XsError extends Error {
  constructor(readonly code: string) { super(code); }
}

let generation = 0;
const PERM = /^[nrwb][0-9]{1,5}$/;
const newNode = (perms: string[], value = Buffer.alloc(0)): XsNode => ({ value, perms, children: new Map(), gen: ++generation });

interface Access { read: boolean; write: boolean; owner: boolean }

/** perm_for_conn: privileged and owner get everything, then the domain's own entry, then the default (first) entry. */
export function accessFor(domid: number, perms: readonly string[]): Access {
  const owner = Number(perms[0]!.slice(1));
  if (domid === 0 || owner === domid) return { read: true, write: true, owner: true };
  const entry = perms.slice(1).find((perm) => Number(perm.slice(1)) === domid) ?? perms[0]!;
  const letter = entry[0];
  return { read: letter === 'r' || letter === 'b', write: letter === 'w' || letter === 'b', owner: false };
}

export const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';
const partsOf = (path: string): string[] => path.split('/').filter(Boolean);

export type TouchHook = (path: string, node: XsNode | undefined) => void;

export class XenstoreTree {
  constructor(readonly root: XsNode = newNode(['n0']), private readonly touch: TouchHook = () => undefined) {}

  /**
   * A copy whose accesses are reported to `touch` (a transaction's view), made as it is reached: a node's children are
   * copied the first time the transaction looks below it. Like C xenstored's transactions (which read the main
   * database until they change a node), it costs what the transaction touches, not the size of the tree (a deep copy
   * per transaction made the test double the bottleneck of a 400-guest storm); a node that changed in between is
   * caught at commit by its generation, as any change after the first touch is.
   */
  copy(touch: TouchHook): XenstoreTree {
    const clone = (node: XsNode): XsNode => {
      let children: Map<string, XsNode> | undefined;
      return {
        value: node.value, perms: [...node.perms], gen: node.gen,
        get children() { return (children ??= new Map([...node.children].map(([name, child]) => [name, clone(child)]))); },
      };
    };
    return new XenstoreTree(clone(this.root), touch);
  }

  find(path: string): XsNode | undefined {
    let node: XsNode | undefined = this.root;
    for (const part of partsOf(path)) node = node?.children.get(part);
    return node;
  }

  /** The node if `domid` has the access; otherwise EACCES or ENOENT as xenstored would say. */
  private get(domid: number, path: string, need: keyof Access | 'rw-owner'): XsNode {
    const node = this.find(path);
    this.touch(path, node);
    const allowed = (n: XsNode) => {
      const access = accessFor(domid, n.perms);
      return need === 'rw-owner' ? access.write && access.owner : access[need];
    };
    if (node) {
      if (!allowed(node)) throw new XsError('EACCES');
      return node;
    }
    let ancestor = parentOf(path);
    while (!this.find(ancestor)) ancestor = parentOf(ancestor);
    throw new XsError(allowed(this.find(ancestor)!) ? 'ENOENT' : 'EACCES');
  }

  read(domid: number, path: string): Buffer { return this.get(domid, path, 'read').value; }
  directory(domid: number, path: string): string[] { return [...this.get(domid, path, 'read').children.keys()]; }
  getPerms(domid: number, path: string): string[] { return this.get(domid, path, 'read').perms; }

  write(domid: number, path: string, value: Buffer): void {
    const node = this.existingOrCreated(domid, path);
    node.value = value;
    node.gen = ++generation;
  }

  mkdir(domid: number, path: string): void { this.existingOrCreated(domid, path); }

  rm(domid: number, path: string): void {
    let node: XsNode;
    try {
      node = this.get(domid, path, 'write');
    } catch (err) {
      if ((err as XsError).code === 'ENOENT' && this.find(parentOf(path))) return; // already gone: fine if the parent exists
      throw err;
    }
    if (path === '/') throw new XsError('EINVAL');
    const visit = (at: string, n: XsNode) => { this.touch(at, n); for (const [name, child] of n.children) visit(`${at}/${name}`, child); };
    visit(path, node);
    const parent = this.find(parentOf(path))!;
    this.touch(parentOf(path), parent);
    parent.children.delete(partsOf(path).pop()!);
    parent.gen = ++generation;
  }

  setPerms(domid: number, path: string, perms: readonly string[]): void {
    if (perms.length === 0 || !perms.every((perm) => PERM.test(perm))) throw new XsError('EINVAL');
    const node = this.get(domid, path, 'rw-owner');
    if (domid !== 0 && Number(perms[0]!.slice(1)) !== Number(node.perms[0]!.slice(1))) throw new XsError('EPERM');
    node.perms = [...perms];
    node.gen = ++generation;
  }

  /** As do_write/do_mkdir: an existing node needs write; a new one needs write on the nearest existing ancestor, and missing parents are created too. */
  private existingOrCreated(domid: number, path: string): XsNode {
    try {
      return this.get(domid, path, 'write');
    } catch (err) {
      if ((err as XsError).code !== 'ENOENT') throw err;
    }
    let node = this.root;
    let at = '';
    for (const part of partsOf(path)) {
      at += `/${part}`;
      let child = node.children.get(part);
      if (!child) {
        this.touch(at, undefined);
        this.touch(parentOf(at), node);
        const perms = [...node.perms];
        if (domid !== 0) perms[0] = `${perms[0]![0]}${domid}`; // unprivileged domains own what they create
        child = newNode(perms);
        node.children.set(part, child);
        node.gen = ++generation;
      }
      node = child;
    }
    return node;
  }
}

export type TreeOp = (tree: XenstoreTree) => void;

/** A transaction: its own copy of the tree, what it touched (and at which generation), and its changes to replay on commit. */
export class XsTransaction {
  readonly view: XenstoreTree;
  private readonly seen = new Map<string, number | undefined>();
  private readonly changes: TreeOp[] = [];

  constructor(main: XenstoreTree) {
    this.view = main.copy((path, node) => { if (!this.seen.has(path)) this.seen.set(path, node?.gen); });
  }

  /** Apply a change to the transaction's view now and remember it for the commit. */
  change(op: TreeOp): void {
    op(this.view);
    this.changes.push(op);
  }

  /** EAGAIN if anything touched changed meanwhile; otherwise the changes land on `main`. */
  commit(main: XenstoreTree): void {
    for (const [path, gen] of this.seen) if (main.find(path)?.gen !== gen) throw new XsError('EAGAIN');
    for (const op of this.changes) op(main);
  }
}
