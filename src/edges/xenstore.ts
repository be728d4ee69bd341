// xenstore client for dom0: one connection, pipelined requests, reached as Debian's xenstore-read does ($XENSTORED_PATH, the socket, /dev/xen/xenbus).
import * as fs from 'node:fs';
import * as net from 'node:net';
import { VifError } from '../core/errors';
import { encodeMessage, MessageReader, payloadOf, splitNul, XsType, type XsMessage } from './xenstore-wire';

export interface XenStore {
  read(path: string): Promise<string | undefined>;
  /** Several reads in one round trip; absent nodes come back undefined. */
  readMany(paths: readonly string[]): Promise<(string | undefined)[]>;
  write(path: string, value: string): Promise<void>;
  directory(path: string): Promise<string[] | undefined>;
  close(): void;
}

interface Transport {
  send(data: Buffer): void;
  onData(handler: (chunk: Buffer) => void, onError: (err: Error) => void): void;
  close(): void;
}

export function xenstoreEndpoint(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.XENSTORED_PATH) return env.XENSTORED_PATH;
  for (const candidate of ['/run/xenstored/socket', '/var/run/xenstored/socket']) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return '/dev/xen/xenbus';
}

async function connect(endpoint: string): Promise<Transport> {
  const isDevice = endpoint.startsWith('/dev/') || endpoint.startsWith('/proc/');
  if (isDevice) {
    const fd = fs.openSync(endpoint, 'r+');
    const stream = fs.createReadStream('', { fd, autoClose: false, highWaterMark: 65536 });
    return {
      send: (data) => { fs.writeSync(fd, data); },
      onData: (handler, onError) => { stream.on('data', (chunk) => handler(chunk as Buffer)); stream.on('error', onError); },
      close: () => { stream.destroy(); fs.closeSync(fd); },
    };
  }
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.createConnection(endpoint);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  return {
    send: (data) => { socket.write(data); },
    onData: (handler, onError) => {
      socket.on('data', handler);
      socket.on('error', onError);
      socket.on('close', () => onError(new Error('connection to xenstored closed')));
    },
    close: () => { socket.destroy(); },
  };
}

export async function openXenStore(env: Readonly<Record<string, string | undefined>> = process.env): Promise<XenStore> {
  const endpoint = xenstoreEndpoint(env);
  let transport: Transport;
  try {
    transport = await connect(endpoint);
  } catch (err) {
    throw new VifError('XENSTORE', `cannot reach xenstored at ${endpoint}: ${(err as Error).message}`,
      'is xenstored running (systemctl status xenstored)? XENSTORED_PATH overrides the socket path', { endpoint }, err);
  }
  const pending = new Map<number, { resolve: (m: XsMessage) => void; reject: (e: Error) => void; what: string }>();
  const reader = new MessageReader();
  let nextId = 1;
  transport.onData((chunk) => {
    for (const message of reader.push(chunk)) {
      if (message.type === XsType.WATCH_EVENT) continue;
      const waiter = pending.get(message.reqId);
      if (!waiter) continue;
      pending.delete(message.reqId);
      waiter.resolve(message);
    }
  }, (err) => {
    for (const waiter of pending.values()) waiter.reject(err);
    pending.clear();
  });

  let closed = false;
  function request(type: number, payload: Buffer, what: string): Promise<XsMessage> {
    const reqId = nextId++;
    if (closed) return Promise.reject(new Error(`xenstore connection already closed (request for ${what})`));
    return new Promise((resolve, reject) => {
      pending.set(reqId, { resolve, reject, what });
      transport.send(encodeMessage({ type, reqId, txId: 0, payload }));
    });
  }

  function errorOf(message: XsMessage): string | undefined {
    return message.type === XsType.ERROR ? splitNul(message.payload)[0] ?? 'EIO' : undefined;
  }

  function failure(op: string, path: string, code: string): VifError {
    return new VifError('XENSTORE', `xenstore ${op} ${path} failed: ${code}`, 'check xenstored and the path (xenstore-ls)', { op, path, code });
  }

  const readOne = async (path: string): Promise<string | undefined> => {
    const reply = await request(XsType.READ, payloadOf([path]), path);
    const code = errorOf(reply);
    if (code === 'ENOENT') return undefined;
    if (code) throw failure('read', path, code);
    return reply.payload.toString('utf8');
  };

  return {
    read: readOne,
    readMany: (paths) => Promise.all(paths.map(readOne)),
    async write(path, value) {
      const reply = await request(XsType.WRITE, Buffer.concat([payloadOf([path]), Buffer.from(value, 'utf8')]), path);
      const code = errorOf(reply);
      if (code) throw failure('write', path, code);
    },
    async directory(path) {
      const reply = await request(XsType.DIRECTORY, payloadOf([path]), path);
      const code = errorOf(reply);
      if (code === 'ENOENT') return undefined;
      if (code) throw failure('directory', path, code);
      return splitNul(reply.payload);
    },
    close: () => {
      closed = true;
      for (const waiter of pending.values()) waiter.reject(new Error(`xenstore connection closed before the reply for ${waiter.what}`));
      pending.clear();
      transport.close();
    },
  };
}
