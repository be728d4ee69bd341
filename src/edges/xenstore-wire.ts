// The xenstore wire protocol (xen/include/public/io/xs_wire.h): message types, framing and parsing; no I/O.

export const XsType = {
  DIRECTORY: 1, READ: 2, GET_PERMS: 3, WATCH: 4, UNWATCH: 5, TRANSACTION_START: 6, TRANSACTION_END: 7,
  INTRODUCE: 8, RELEASE: 9, GET_DOMAIN_PATH: 10, WRITE: 11, MKDIR: 12, RM: 13, SET_PERMS: 14,
  WATCH_EVENT: 15, ERROR: 16, IS_DOMAIN_INTRODUCED: 17, RESUME: 18, SET_TARGET: 19, RESET_WATCHES: 21, DIRECTORY_PART: 22,
} as const;

export const HEADER_SIZE = 16;
export const PAYLOAD_MAX = 4096;

export interface XsMessage {
  readonly type: number;
  readonly reqId: number;
  readonly txId: number;
  readonly payload: Buffer;
}

export function encodeMessage(message: XsMessage): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt32LE(message.type, 0);
  header.writeUInt32LE(message.reqId, 4);
  header.writeUInt32LE(message.txId, 8);
  header.writeUInt32LE(message.payload.length, 12);
  return Buffer.concat([header, message.payload]);
}

/** Accumulates bytes and yields complete messages. */
export class MessageReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): XsMessage[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: XsMessage[] = [];
    while (this.buffer.length >= HEADER_SIZE) {
      const len = this.buffer.readUInt32LE(12);
      if (len > PAYLOAD_MAX * 4) throw new Error(`xenstore message of ${len} bytes exceeds the protocol limit`);
      if (this.buffer.length < HEADER_SIZE + len) break;
      out.push({
        type: this.buffer.readUInt32LE(0),
        reqId: this.buffer.readUInt32LE(4),
        txId: this.buffer.readUInt32LE(8),
        payload: this.buffer.subarray(HEADER_SIZE, HEADER_SIZE + len),
      });
      this.buffer = this.buffer.subarray(HEADER_SIZE + len);
    }
    return out;
  }
}

/** NUL-terminated strings joined, as requests carry them (`path\0`, `path\0value` for WRITE). */
export function payloadOf(parts: readonly string[], terminate = true): Buffer {
  return Buffer.from(parts.join('\0') + (terminate ? '\0' : ''), 'utf8');
}

export function splitNul(payload: Buffer): string[] {
  const text = payload.toString('utf8');
  const parts = text.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}
