// Test double of xenstored: the xenstore wire protocol on unix sockets (dom0's, and one per guest domain asked for), faithful enough for Debian's xenstore-read/-write/-list.
import * as net from 'node:net';
import { rmSync } from 'node:fs';
import { encodeMessage, MessageReader, splitNul, XsType, type XsMessage } from '../../src/edges/xenstore-wire';
import { XenstoreTree, XsError, XsTransaction } from './fake-xenstore-tree';

export interface LoggedRequest {
  readonly domid: number;
  readonly type: number;
  readonly path: string;
  readonly txId: number; // 0: outside a transaction
}

export interface FakeXenstored {
  readonly socketPath: string;
  /** A second socket whose clients are domain `domid` (unprivileged, home /local/domain/<domid>), as a guest reaches xenstored through its xenbus ring. */
  listenAsDomain(domid: number): Promise<string>;
  write(path: string, value: string): void;
  read(path: string): string | undefined;
  rm(path: string): void;
  list(path: string): string[] | undefined;
  setPerms(path: string, perms: readonly string[]): void;
  perms(path: string): string[] | undefined;
  requests(): number;
  /** Every request since start (or the last clearLog): who sent it, its type and its path made absolute. */
  requestLog(): readonly LoggedRequest[];
  clearLog(): void;
  close(): Promise<void>;
}

const PATH_OK = /^[A-Za-z0-9_/@.:-]+$/;

interface Connection {
  readonly domid: number;
  readonly transactions: Map<number, XsTransaction>;
}

export async function startFakeXenstored(socketPath: string): Promise<FakeXenstored> {
  const tree = new XenstoreTree();
  let requestCount = 0;
  let log: LoggedRequest[] = [];
  let nextTx = 1;
  const absolute = (path: string, domid = 0) => (path.startsWith('/') ? path : `/local/domain/${domid}/${path}`);

  function handle(conn: Connection, message: XsMessage): XsMessage {
    requestCount++;
    const reply = (payload: Buffer | string, type = message.type): XsMessage =>
      ({ type, reqId: message.reqId, txId: message.txId, payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload });
    const error = (code: string) => reply(`${code}\0`, XsType.ERROR);
    const ok = () => reply('OK\0');
    const args = splitNul(message.payload);
    const pathArg = args[0] ?? '';
    const valid = (raw: string) => raw !== '' && PATH_OK.test(raw) && raw.length <= 3072;
    const needPath = () => (valid(pathArg) ? absolute(pathArg, conn.domid) : undefined);
    log.push({ domid: conn.domid, type: message.type, path: valid(pathArg) ? absolute(pathArg, conn.domid) : pathArg, txId: message.txId });

    const tx = message.txId === 0 ? undefined : conn.transactions.get(message.txId);
    if (message.txId !== 0 && !tx && message.type !== XsType.WATCH && message.type !== XsType.UNWATCH) return error('ENOENT');
    const view = tx?.view ?? tree;
    const change = (op: (t: XenstoreTree) => void) => { if (tx) tx.change(op); else op(tree); };
    try {
      switch (message.type) {
        case XsType.READ: {
          const path = needPath(); if (!path) return error('EINVAL');
          return reply(view.read(conn.domid, path));
        }
        case XsType.WRITE: {
          const nul = message.payload.indexOf(0);
          if (nul <= 0) return error('EINVAL');
          const raw = message.payload.subarray(0, nul).toString('utf8');
          if (!valid(raw)) return error('EINVAL');
          const value = Buffer.from(message.payload.subarray(nul + 1));
          change((t) => t.write(conn.domid, absolute(raw, conn.domid), value));
          return ok();
        }
        case XsType.MKDIR: {
          const path = needPath(); if (!path) return error('EINVAL');
          change((t) => t.mkdir(conn.domid, path));
          return ok();
        }
        case XsType.RM: {
          const path = needPath(); if (!path) return error('EINVAL');
          change((t) => t.rm(conn.domid, path));
          return ok();
        }
        case XsType.DIRECTORY: {
          const path = needPath(); if (!path) return error('EINVAL');
          return reply(view.directory(conn.domid, path).map((name) => `${name}\0`).join(''));
        }
        case XsType.GET_PERMS: {
          const path = needPath(); if (!path) return error('EINVAL');
          return reply(view.getPerms(conn.domid, path).map((perm) => `${perm}\0`).join(''));
        }
        case XsType.SET_PERMS: {
          const path = needPath(); if (!path) return error('EINVAL');
          const perms = args.slice(1);
          change((t) => t.setPerms(conn.domid, path, perms));
          return ok();
        }
        case XsType.TRANSACTION_START: {
          if (tx) return error('EBUSY');
          const id = nextTx++;
          conn.transactions.set(id, new XsTransaction(tree));
          return reply(`${id}\0`);
        }
        case XsType.TRANSACTION_END: {
          if (!tx) return error('ENOENT');
          conn.transactions.delete(message.txId);
          if (args[0] === 'T') tx.commit(tree);
          else if (args[0] !== 'F') return error('EINVAL');
          return ok();
        }
        case XsType.WATCH:
        case XsType.UNWATCH:
        case XsType.RESET_WATCHES:
          return ok();
        case XsType.GET_DOMAIN_PATH:
          return reply(`/local/domain/${args[0] ?? '0'}\0`);
        default:
          return error('ENOSYS');
      }
    } catch (err) {
      if (err instanceof XsError) return error(err.code);
      throw err;
    }
  }

  const sockets = new Set<net.Socket>();
  const servers: Array<{ server: net.Server; path: string }> = [];
  async function listen(path: string, domid: number): Promise<string> {
    rmSync(path, { force: true });
    const server = net.createServer((socket) => {
      sockets.add(socket);
      const conn: Connection = { domid, transactions: new Map() };
      const reader = new MessageReader();
      socket.on('data', (chunk) => {
        try {
          for (const message of reader.push(chunk)) socket.write(encodeMessage(handle(conn, message)));
        } catch {
          socket.destroy();
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(path, resolve); });
    servers.push({ server, path });
    return path;
  }
  await listen(socketPath, 0);

  return {
    socketPath,
    listenAsDomain: async (domid) => {
      const path = `${socketPath}.dom${domid}`;
      return servers.some((s) => s.path === path) ? path : listen(path, domid);
    },
    write: (path, value) => tree.write(0, absolute(path), Buffer.from(value, 'utf8')),
    read: (path) => tree.find(absolute(path))?.value.toString('utf8'),
    rm: (path) => { try { tree.rm(0, absolute(path)); } catch { /* parent gone too: nothing to remove */ } },
    list: (path) => { const node = tree.find(absolute(path)); return node ? [...node.children.keys()] : undefined; },
    setPerms: (path, perms) => tree.setPerms(0, absolute(path), perms),
    perms: (path) => tree.find(absolute(path))?.perms,
    requests: () => requestCount,
    requestLog: () => log,
    clearLog: () => { log = []; },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map(({ server, path }) => new Promise<void>((resolve) => server.close(() => { rmSync(path, { force: true }); resolve(); }))));
    },
  };
}
