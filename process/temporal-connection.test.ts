import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { parseTemporalSecurity } from './config.js';
import { temporalConnectionOptions } from './temporal-connection.js';

const run = promisify(execFile);

describe('parseTemporalSecurity', () => {
  const cases: Array<{ reason: string; env: Record<string, string>; want?: object; error?: RegExp }> = [
    { reason: 'nothing set is plain text, as the local stack runs', env: {}, want: { tls: false } },
    { reason: 'TEMPORAL_TLS=true alone trusts the system CAs', env: { TEMPORAL_TLS: 'true' }, want: { tls: true } },
    {
      reason: 'an API key implies TLS: it is never sent in clear text',
      env: { TEMPORAL_API_KEY_FILE: '/var/run/temporal/api-key' },
      want: { tls: true, apiKey: { file: '/var/run/temporal/api-key' } },
    },
    {
      reason: 'a client certificate pair, CA and server name',
      env: {
        TEMPORAL_TLS_CERT_PATH: '/tls/tls.crt',
        TEMPORAL_TLS_KEY_PATH: '/tls/tls.key',
        TEMPORAL_TLS_CA_PATH: '/tls/ca.crt',
        TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal',
      },
      want: { tls: true, clientCertPath: '/tls/tls.crt', clientKeyPath: '/tls/tls.key', serverCAPath: '/tls/ca.crt', serverName: 'frontend.temporal' },
    },
    { reason: 'a certificate without its key', env: { TEMPORAL_TLS_CERT_PATH: '/tls/tls.crt' }, error: /must be set together, got only TEMPORAL_TLS_CERT_PATH/ },
    { reason: 'a key without its certificate', env: { TEMPORAL_TLS_KEY_PATH: '/tls/tls.key' }, error: /got only TEMPORAL_TLS_KEY_PATH/ },
    { reason: 'two API key sources', env: { TEMPORAL_API_KEY: 'k', TEMPORAL_API_KEY_FILE: '/k' }, error: /not both/ },
    { reason: 'TLS off with an API key', env: { TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }, error: /never sent in clear text/ },
    { reason: 'a TLS flag that is not a boolean', env: { TEMPORAL_TLS: 'yes' }, error: /must be true or false, got "yes"/ },
  ];
  for (const { reason, env, want, error } of cases) {
    test(reason, () => {
      if (error) assert.throws(() => parseTemporalSecurity(env), error);
      else assert.deepEqual(parseTemporalSecurity(env), want);
    });
  }
});

describe('temporalConnectionOptions', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'temporal-connection-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  test('plain text: the address only, no tls key at all', async () => {
    assert.deepEqual(await temporalConnectionOptions({ temporalAddress: 'temporal:7233', temporalSecurity: { tls: false } }), {
      address: 'temporal:7233',
    });
  });

  test('the certificate files are read, the API key file trimmed of its newline', async () => {
    for (const [file, text] of [['ca.crt', 'CA'], ['tls.crt', 'CERT'], ['tls.key', 'KEY'], ['api-key', 'secret-key\n']]) {
      await writeFile(path.join(directory, file), text);
    }
    const options = await temporalConnectionOptions({
      temporalAddress: 'example.tmprl.cloud:7233',
      temporalSecurity: {
        tls: true,
        serverName: 'frontend.temporal',
        serverCAPath: path.join(directory, 'ca.crt'),
        clientCertPath: path.join(directory, 'tls.crt'),
        clientKeyPath: path.join(directory, 'tls.key'),
        apiKey: { file: path.join(directory, 'api-key') },
      },
    });
    assert.equal(options.apiKey, 'secret-key');
    assert.equal(options.tls?.serverNameOverride, 'frontend.temporal');
    assert.equal(Buffer.from(options.tls?.serverRootCACertificate ?? []).toString(), 'CA');
    assert.equal(Buffer.from(options.tls?.clientCertPair?.crt ?? []).toString(), 'CERT');
    assert.equal(Buffer.from(options.tls?.clientCertPair?.key ?? []).toString(), 'KEY');
  });

  test('a missing file names the variable and how to fix it', async () => {
    await assert.rejects(
      temporalConnectionOptions({ temporalAddress: 'x:7233', temporalSecurity: { tls: true, serverCAPath: path.join(directory, 'absent.crt') } }),
      /cannot read TEMPORAL_TLS_CA_PATH file .*absent\.crt \(ENOENT\); mount the Secret there or unset TEMPORAL_TLS_CA_PATH/,
    );
  });

  test('an empty API key file is an error, not an empty bearer token', async () => {
    await writeFile(path.join(directory, 'empty'), '\n');
    await assert.rejects(
      temporalConnectionOptions({ temporalAddress: 'x:7233', temporalSecurity: { tls: true, apiKey: { file: path.join(directory, 'empty') } } }),
      /TEMPORAL_API_KEY_FILE .*empty is empty/,
    );
  });
});

/**
 * Both SDK connections, built from these options, against a TLS gRPC
 * endpoint that demands a client certificate signed by our CA and answers
 * on a name other than the address: what each connection presented is what
 * the server saw. It answers every call UNIMPLEMENTED, so connecting may
 * fail after the handshake; the handshake and headers are what is checked.
 */
describe('the options on real TLS connections', () => {
  let directory: string;
  let server: http2.Http2SecureServer;
  let port: number;
  const seen: Array<{ clientCN: string | undefined; authorization: string | undefined; path: string | undefined }> = [];

  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'temporal-tls-'));
    const openssl = (args: string[]) => run('openssl', args, { cwd: directory });
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt']);
    for (const [name, cn, extension] of [
      ['server', 'frontend.temporal.test', 'subjectAltName=DNS:frontend.temporal.test'],
      ['client', 'infra-operator', 'extendedKeyUsage=clientAuth'],
    ] as const) {
      await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
      await writeFile(path.join(directory, `${name}.ext`), `${extension}\n`);
      await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
    }
    await writeFile(path.join(directory, 'api-key'), 'cloud-api-key\n');
    server = http2.createSecureServer({
      key: await readFile(path.join(directory, 'server.key')),
      cert: await readFile(path.join(directory, 'server.crt')),
      ca: await readFile(path.join(directory, 'ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on('stream', (stream, headers) => {
      const peer = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate();
      seen.push({ clientCN: peer?.subject?.CN, authorization: headers.authorization, path: headers[':path'] });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'test endpoint' }, { endStream: true });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server?.close();
    await rm(directory, { recursive: true, force: true });
  });

  const optionsForTest = () =>
    temporalConnectionOptions({
      temporalAddress: `127.0.0.1:${port}`,
      temporalSecurity: {
        tls: true,
        serverName: 'frontend.temporal.test',
        serverCAPath: path.join(directory, 'ca.crt'),
        clientCertPath: path.join(directory, 'client.crt'),
        clientKeyPath: path.join(directory, 'client.key'),
        apiKey: { file: path.join(directory, 'api-key') },
      },
    });

  for (const [name, connect] of [
    ['the watcher\'s Connection (grpc-js)', async () => (await Connection.connect({ ...(await optionsForTest()), connectTimeout: 5000 })).close()],
    ['the worker\'s NativeConnection (Core)', async () => (await NativeConnection.connect(await optionsForTest())).close()],
  ] as const) {
    test(`${name} presents the client certificate and the API key, and trusts the CA under the server name`, async () => {
      const before = seen.length;
      await connect().catch(() => undefined);
      const calls = seen.slice(before);
      assert.ok(calls.length > 0, 'the connection reached the TLS endpoint: the handshake with our CA and server name succeeded');
      for (const call of calls) {
        assert.equal(call.clientCN, 'infra-operator');
        assert.equal(call.authorization, 'Bearer cloud-api-key');
        assert.match(call.path ?? '', /^\/temporal\.api\./);
      }
    });
  }
});
