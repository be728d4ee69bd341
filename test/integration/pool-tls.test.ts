// The pool's registry over TLS with client certificates (ETCD_CA, ETCD_CERT, ETCD_KEY): certificates made by openssl here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../harness/processes';
import { DOM0_ADDRESSES, ETCD_ADDRESSES, TestPool } from '../harness/pool';
import { testMac } from '../harness/xen-domain';
import type { Sandbox } from '../harness/sandbox';

// budget: about 5 s (one etcd member, one dom0)
let dir: string;
let pool: TestPool;
let box: Sandbox;

/** A key and a certificate for `cn` signed by `ca` (self-signed when `ca` is undefined), EC P-256 to keep it fast. */
async function certificate(name: string, cn: string, ca: string | undefined, ext: string): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  await check('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-out', `${cert}.csr`]);
  const signer = ca ? ['-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial'] : ['-signkey', key];
  await check('openssl', ['x509', '-req', '-in', `${cert}.csr`, '-days', '1', ...signer, '-extfile', extFile, '-out', cert]);
  return { cert, key };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vnd-tls-'));
  const ca = await certificate('ca', 'vnd test CA', undefined, 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign\n');
  // etcd's JSON gateway dials its own gRPC port with the server certificate: with --client-cert-auth it must allow clientAuth too
  const server = await certificate('server', 'etcd', join(dir, 'ca'), `subjectAltName=IP:${ETCD_ADDRESSES[0]}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  const client = await certificate('client', 'dom0', join(dir, 'ca'), 'extendedKeyUsage=clientAuth\n');
  await certificate('rogue-ca', 'rogue CA', undefined, 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign\n');
  await certificate('rogue', 'dom0', join(dir, 'rogue-ca'), 'extendedKeyUsage=clientAuth\n');
  pool = await TestPool.create({ dom0s: 1, members: 1, tls: { ca: ca.cert, cert: server.cert, key: server.key, clientCert: client.cert, clientKey: client.key } });
  box = pool.dom0s[0]!;
}, 60_000);
afterAll(async () => {
  await pool?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS client authentication', () => {
  it('with the certificate: guests get addresses registered in the pool', async () => {
    const guest = await box.addGuest(1, 'secure', [testMac(5, 1)], { headless: true });
    const result = await box.runHook(guest.vifs[0]!, 'online');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/degraded/);
    const list = await box.runScript('vif-nat-dns-admin', ['pool', 'list']);
    expect(list.stdout).toMatch(new RegExp(`secure\\s+10\\.0\\.1\\.1\\s+${DOM0_ADDRESSES[0]!.replace(/\./g, '\\.')}`));
  });

  it.each([
    ['no client certificate', { VIF_NAT_DNS_ETCD_CERT: '', VIF_NAT_DNS_ETCD_KEY: '' }],
    ['a certificate from another CA', { VIF_NAT_DNS_ETCD_CERT: 'rogue.pem', VIF_NAT_DNS_ETCD_KEY: 'rogue.key' }],
  ])('%s: refused by etcd, said plainly', async (_, env) => {
    const files = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value && join(dir, value)]));
    const status = await box.runScript('vif-nat-dns-admin', ['pool', 'status'], files);
    expect(status.code, status.stderr).toBe(1);
    expect(status.stderr).toMatch(/bad certificate/);
    expect(status.stderr).toMatch(/the registry does not answer: the pool registry \(etcd at https:\/\/192\.168\.77\.21:2379\) did not answer/);
  });
});
