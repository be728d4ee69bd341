// One line per event to stderr (libxl appends it to its log) and to syslog through logger(1) when its socket (/dev/log) exists.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { LogLevel } from '../core/config';

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const PRIORITY: Record<LogLevel, string> = { error: 'daemon.err', warn: 'daemon.warning', info: 'daemon.info', debug: 'daemon.debug' };

/** `syslogSocket`: where syslog listens (/dev/log), or undefined for stderr only. */
export function createLogger(tag: string, level: LogLevel, syslogSocket: string | undefined, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const toSyslog = syslogSocket !== undefined && existsSync(syslogSocket);
  const emit = (at: LogLevel, message: string) => {
    if (RANK[at] > RANK[level]) return;
    const line = message.replace(/[\r\n]+/g, ' ');
    write(`${tag}[${process.pid}]: ${at === 'info' ? '' : `${at}: `}${line}\n`);
    if (toSyslog && at !== 'debug') {
      const child = spawn('logger', ['-u', syslogSocket!, '-t', tag, '-p', PRIORITY[at], '--', line], { stdio: 'ignore', detached: true });
      child.on('error', () => undefined);
      child.unref();
    }
  };
  return {
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
  };
}
