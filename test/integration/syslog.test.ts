// The hook's one line per event reaches syslog (through logger(1) and the syslog socket) as well as stderr.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../harness/sandbox';
import type { Daemon } from '../harness/processes';
import { startSyslogSink } from '../harness/syslog-sinks';

let box: Sandbox;
let syslogd: Daemon;
let socketPath: string;
beforeAll(async () => {
  box = await Sandbox.create();
  socketPath = join(box.dir, 'log.sock');
  syslogd = await startSyslogSink(socketPath);
});
afterAll(async () => { await syslogd?.stop(); await box?.destroy(); });

describe('syslog', () => {
  it('gets the event line with the tag and priority; SYSLOG=no keeps it on stderr only', async () => {
    const guest = await box.addGuest(70, 'logged', ['00:16:3e:00:70:01'], { headless: true });
    const result = await box.runHook(guest.vifs[0]!, 'online', { VIF_NAT_DNS_SYSLOG_SOCKET: socketPath });
    expect(result.code).toBe(0);
    // <30> = daemon.info
    await syslogd.waitFor(/<30>.*vif-nat-dns: online vif70\.0: logged 10\.0\.1\.1 /);
    const before = syslogd.output().length;
    const quiet = await box.runHook(guest.vifs[0]!, 'offline', { VIF_NAT_DNS_SYSLOG_SOCKET: socketPath, VIF_NAT_DNS_SYSLOG: 'no' });
    expect(quiet.stderr).toContain('offline vif70.0');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(syslogd.output().slice(before)).not.toContain('offline vif70.0');
  });
});
