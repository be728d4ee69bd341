// The xenstore client against a scripted server: replies split across reads, several replies in one read, a closed connection.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openXenStore } from '../../src/edges/xenstore';
import { encodeMessage, MessageReader, XsType } from '../../src/edges/xenstore-wire';

type Reply = (request: { type: number; reqId: number; path: string }, socket: Socket) => void;

const cleanups: Array<() => void> = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

/** A server on a fresh socket path that hands every request to `reply`. */
async function scriptedServer(reply: Reply): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'vnd-xs-'));
  const path = join(dir, 'socket');
  const server: Server = createServer((socket) => {
    const reader = new MessageReader();
    socket.on('data', (chunk) => {
      for (const m of reader.push(chunk)) reply({ type: m.type, reqId: m.reqId, path: m.payload.toString('utf8').split('\0')[0]! }, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(() => { server.close(); rmSync(dir, { recursive: true, force: true }); });
  return path;
}

const readReply = (reqId: number, value: string) => encodeMessage({ type: XsType.READ, reqId, txId: 0, payload: Buffer.from(value) });

describe('openXenStore over a socket', () => {
  it('reassembles a reply that arrives in pieces, each read landing in the same receive buffer', async () => {
    const value = 'x'.repeat(3000) + 'END';
    const path = await scriptedServer(({ reqId }, socket) => {
      const bytes = readReply(reqId, value);
      socket.write(bytes.subarray(0, 1000));
      // later reads overwrite the client's receive buffer: the first piece must have been copied out of it
      setTimeout(() => socket.write(bytes.subarray(1000, 2000)), 20);
      setTimeout(() => socket.write(bytes.subarray(2000)), 40);
    });
    const xs = await openXenStore({ XENSTORED_PATH: path });
    try {
      expect(await xs.read('/local/domain/1/name')).toBe(value);
    } finally {
      xs.close();
    }
  });

  it('answers pipelined reads whose replies come back in one write, each to its own request', async () => {
    const pending: Buffer[] = [];
    const path = await scriptedServer(({ reqId, path: node }, socket) => {
      pending.push(readReply(reqId, `value of ${node}`));
      if (pending.length === 3) socket.write(Buffer.concat(pending.splice(0).reverse())); // out of order, one chunk
    });
    const xs = await openXenStore({ XENSTORED_PATH: path });
    try {
      expect(await xs.readMany(['/a', '/b', '/c'])).toEqual(['value of /a', 'value of /b', 'value of /c']);
    } finally {
      xs.close();
    }
  });

  it('fails the requests in flight when xenstored closes the connection', async () => {
    const path = await scriptedServer((_request, socket) => socket.destroy());
    const xs = await openXenStore({ XENSTORED_PATH: path });
    try {
      await expect(xs.read('/local/domain/1/name')).rejects.toThrow(/connection to xenstored closed/);
    } finally {
      xs.close();
    }
  });
});
