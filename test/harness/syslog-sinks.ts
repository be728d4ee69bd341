// A stand-in for a host's syslog daemon: a datagram socket (as /dev/log) that prints each message it gets.
import { daemon, type Daemon } from './processes';

const DATAGRAM_RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    print(s.recv(65536).decode("utf-8", "replace"), flush=True)
`;

/** Listening at `path` once this resolves; its output() holds every message so far. */
export async function startSyslogSink(path: string): Promise<Daemon> {
  const sink = daemon('python3', ['-c', DATAGRAM_RECEIVER, path]);
  try {
    await sink.waitFor(/listening/);
  } catch (err) {
    await sink.stop();
    throw err;
  }
  return sink;
}
