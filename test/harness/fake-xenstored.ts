// Test double of xenstored: the xenstore wire protocol on a unix socket, faithful enough for Debian's xenstore-read/-write/-list.
import * as net from 'node:net';
import { rmSync } from 'node:fs';
import { encodeMessage, MessageReader, splitNul, XsType, type XsMessage } from '../../src/edges/xenstore-wire';

interface Node {
  value: Buffer;
  perms: string[];
  children: Map<string, Node>;
}

export interface FakeXenstored {
  readonly socketPath: string;
  write(path: string, value: string): void;
  read(path: string): string | undefined;
  rm(path: string): void;
  list(path: string): string[] | undefined;
  requests(): number;
  close(): Promise<void>;
}

const newNode = (): Node => ({ value: Buffer.alloc(0), perms: ['n0'], children: new Map() });

export class XenstoreTree {
  private readonly root = newNode();

  private parts(path: string): string[] {
    return path.split('/').filter(Boolean);
  }

  find(path: string): Node | undefined {
    let node: Node | undefined = this.root;
    for (const part of this.parts(path)) node = node?.children.get(part);
    return node;
  }

  /** Create the node and any missing parents (as xenstored does on WRITE and MKDIR). */
  ensure(path: string): Node {
    let node = this.root;
    for (const part of this.parts(path)) {
      let child = node.children.get(part);
      if (!child) { child = newNode(); node.children.set(part, child); }
      node = child;
    }
    return node;
  }

  /** false when the parent does not exist (ENOENT); removing an absent child of an existing parent succeeds. */
  remove(path: string): boolean {
    const parts = this.parts(path);
    if (parts.length === 0) return false;
    const parent = this.find('/' + parts.slice(0, -1).join('/'));
    if (!parent) return false;
    parent.children.delete(parts[parts.length - 1]!);
    return true;
  }
}

const PATH_OK = /^[A-Za-z0-9_/@.:-]+$/;

export async function startFakeXenstored(socketPath: string): Promise<FakeXenstored> {
  const tree = new XenstoreTree();
  let requestCount = 0;
  let nextTx = 1;
  const absolute = (path: string) => (path.startsWith('/') ? path : `/local/domain/0/${path}`);

  function handle(message: XsMessage): XsMessage {
    requestCount++;
    const reply = (payload: Buffer | string, type = message.type): XsMessage =>
      ({ type, reqId: message.reqId, txId: message.txId, payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload });
    const error = (code: string) => reply(`${code}\0`, XsType.ERROR);
    const ok = () => reply('OK\0');
    const args = splitNul(message.payload);
    const pathArg = args[0] ?? '';
    const needPath = () => (pathArg === '' || !PATH_OK.test(pathArg) || pathArg.length > 3072 ? undefined : absolute(pathArg));

    switch (message.type) {
      case XsType.READ: {
        const path = needPath(); if (!path) return error('EINVAL');
        const node = tree.find(path);
        return node ? reply(node.value) : error('ENOENT');
      }
      case XsType.WRITE: {
        const nul = message.payload.indexOf(0);
        if (nul <= 0) return error('EINVAL');
        const raw = message.payload.subarray(0, nul).toString('utf8');
        if (!PATH_OK.test(raw)) return error('EINVAL');
        tree.ensure(absolute(raw)).value = Buffer.from(message.payload.subarray(nul + 1));
        return ok();
      }
      case XsType.MKDIR: {
        const path = needPath(); if (!path) return error('EINVAL');
        tree.ensure(path);
        return ok();
      }
      case XsType.RM: {
        const path = needPath(); if (!path) return error('EINVAL');
        return tree.remove(path) ? ok() : error('ENOENT');
      }
      case XsType.DIRECTORY: {
        const path = needPath(); if (!path) return error('EINVAL');
        const node = tree.find(path);
        if (!node) return error('ENOENT');
        return reply([...node.children.keys()].map((name) => `${name}\0`).join(''));
      }
      case XsType.GET_PERMS: {
        const path = needPath(); if (!path) return error('EINVAL');
        const node = tree.find(path);
        return node ? reply(node.perms.map((perm) => `${perm}\0`).join('')) : error('ENOENT');
      }
      case XsType.SET_PERMS: {
        const path = needPath(); if (!path) return error('EINVAL');
        const node = tree.find(path);
        if (!node) return error('ENOENT');
        node.perms = args.slice(1);
        return ok();
      }
      case XsType.TRANSACTION_START:
        return reply(`${nextTx++}\0`);
      case XsType.TRANSACTION_END:
      case XsType.WATCH:
      case XsType.UNWATCH:
      case XsType.RESET_WATCHES:
        return ok();
      case XsType.GET_DOMAIN_PATH:
        return reply(`/local/domain/${args[0] ?? '0'}\0`);
      default:
        return error('ENOSYS');
    }
  }

  rmSync(socketPath, { force: true });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const reader = new MessageReader();
    socket.on('data', (chunk) => {
      try {
        for (const message of reader.push(chunk)) socket.write(encodeMessage(handle(message)));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(socketPath, resolve); });

  return {
    socketPath,
    write: (path, value) => { tree.ensure(absolute(path)).value = Buffer.from(value, 'utf8'); },
    read: (path) => tree.find(absolute(path))?.value.toString('utf8'),
    rm: (path) => { tree.remove(absolute(path)); },
    list: (path) => { const node = tree.find(absolute(path)); return node ? [...node.children.keys()] : undefined; },
    requests: () => requestCount,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => { rmSync(socketPath, { force: true }); resolve(); });
    }),
  };
}
