import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startStack, type LocalStack } from '../test/support/stack.js';
import { credentialsFor, forgetCredentials, inClusterKubeConfig } from './config.js';
import { KubeApiError, kubeClients, kubeConfigFromFiles, kubeConnectionStats, type KubeConfig } from './client.js';

let stack: LocalStack | undefined;
let config: KubeConfig;
let scratch: string;

before(async () => {
  stack = await startStack({ components: ['etcd', 'kube'] });
  config = kubeConfigFromFiles([stack.kubeconfigPath]);
  scratch = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
});

after(async () => {
  await stack?.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** TLS connections any https.Agent of the process opens while `body` runs. */
async function tlsConnections(body: () => Promise<void>): Promise<number> {
  const prototype = https.Agent.prototype;
  // Called back with its own `this` below, so unbinding it is safe.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = prototype.createConnection;
  let count = 0;
  prototype.createConnection = function (this: https.Agent, ...args: Parameters<typeof original>) {
    count++;
    return original.apply(this, args);
  };
  try {
    await body();
  } finally {
    prototype.createConnection = original;
  }
  return count;
}

const GETS = 20;

test(`${GETS} GETs through kubeClients() reuse one or two connections, over TLS with the kubeconfig's client certificate`, async () => {
  assert.ok(config.server.startsWith('https:'), 'the test API server is https');
  assert.ok(config.tls.cert && config.tls.key && config.tls.ca, 'client certificate, key and CA read from the kubeconfig');

  const start = kubeConnectionStats().opened;
  // Two kubeClients() calls: the agent is the process's, not one client's.
  const clients = [kubeClients(config), kubeClients(config)] as const;
  const sequential = await tlsConnections(async () => {
    for (let i = 0; i < GETS; i++) {
      const namespace = await clients[i % 2].core.readNamespace({ name: 'default' });
      assert.equal(namespace.metadata?.name, 'default');
    }
  });
  const opened = kubeConnectionStats().opened - start;
  assert.ok(sequential <= 2, `${sequential} TLS connections for ${GETS} GETs`);
  assert.equal(opened, sequential);

  // Concurrent requests open at most one connection each and then reuse them.
  const concurrent = await tlsConnections(async () => {
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 5 }, () => clients[0].core.readNamespace({ name: 'kube-system' })));
    }
  });
  assert.ok(concurrent <= 5, `${concurrent} TLS connections for 3 rounds of 5 concurrent GETs`);
  assert.ok(kubeConnectionStats().open <= 6);
});

test('an error answer arrives as a KubeApiError with the HTTP status and the server’s reason', async () => {
  const clients = kubeClients(config);
  await assert.rejects(clients.core.readNamespace({ name: 'no-such-namespace' }), (error: unknown) => {
    assert.ok(error instanceof KubeApiError);
    assert.equal(error.code, 404);
    assert.equal(error.body?.reason, 'NotFound');
    assert.match(error.message, /GET \/api\/v1\/namespaces\/no-such-namespace: HTTP 404 NotFound/);
    return true;
  });
});

test('a Secret written, patched with a JSON Patch guarded by its resourceVersion, and deleted with a precondition', async () => {
  const { core } = kubeClients(config);
  const created = await core.createNamespacedSecret({
    namespace: 'default',
    body: { metadata: { name: 'client-test' }, stringData: { key: 'value' } },
  });
  assert.equal(Buffer.from(created.data?.key ?? '', 'base64').toString(), 'value');
  await core.patchNamespacedSecret(
    {
      name: 'client-test',
      namespace: 'default',
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: created.metadata?.resourceVersion },
        { op: 'add', path: '/metadata/labels', value: { patched: 'yes' } },
      ],
    },
    'application/json-patch+json',
  );
  // The same guard again fails: the resourceVersion moved on.
  await assert.rejects(
    core.patchNamespacedSecret(
      { name: 'client-test', namespace: 'default', body: [{ op: 'test', path: '/metadata/resourceVersion', value: created.metadata?.resourceVersion }] },
      'application/json-patch+json',
    ),
    (error: unknown) => error instanceof KubeApiError && (error.code === 422 || error.code === 409),
  );
  const read = await core.readNamespacedSecret({ name: 'client-test', namespace: 'default' });
  assert.equal(read.metadata?.labels?.patched, 'yes');
  await assert.rejects(
    core.deleteNamespacedSecret({ name: 'client-test', namespace: 'default', body: { preconditions: { uid: 'not-its-uid' } } }),
    (error: unknown) => error instanceof KubeApiError && error.code === 409,
  );
  await core.deleteNamespacedSecret({ name: 'client-test', namespace: 'default', body: { preconditions: { uid: read.metadata?.uid } } });
  await assert.rejects(core.readNamespacedSecret({ name: 'client-test', namespace: 'default' }), (error: unknown) => error instanceof KubeApiError && error.code === 404);
});

interface KubeconfigDocument {
  clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  users: Array<{ name: string; user: Record<string, unknown> }>;
  contexts: Array<{ name: string; context: Record<string, unknown> }>;
  'current-context': string;
}

async function stackKubeconfig(): Promise<KubeconfigDocument> {
  return parse(await readFile(stack!.kubeconfigPath, 'utf8')) as KubeconfigDocument;
}

test('an exec credential plugin is run for the client certificate, once while its credential is fresh, and the API server accepts it', async () => {
  const document = await stackKubeconfig();
  const user = document.users[0].user;
  const certificate = Buffer.from(String(user['client-certificate-data']), 'base64').toString();
  const key = Buffer.from(String(user['client-key-data']), 'base64').toString();
  const runs = join(scratch, 'runs');
  const credential = JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: { clientCertificateData: certificate, clientKeyData: key, expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
  });
  await writeFile(join(scratch, 'credential.json'), credential);
  // Relative to the kubeconfig, as kubectl resolves it; its env reaches it.
  await writeFile(join(scratch, 'plugin.sh'), `#!/bin/sh\necho "$PLUGIN_MARK" >> "${runs}"\ncat "${join(scratch, 'credential.json')}"\n`);
  await chmod(join(scratch, 'plugin.sh'), 0o755);
  document.users = [
    {
      name: 'admin',
      user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './plugin.sh', env: [{ name: 'PLUGIN_MARK', value: 'ran' }], interactiveMode: 'Never' } },
    },
  ];
  const path = join(scratch, 'exec-kubeconfig');
  await writeFile(path, JSON.stringify(document));
  const execConfig = kubeConfigFromFiles([path]);
  assert.equal(execConfig.credentials.type, 'exec');
  const { core } = kubeClients(execConfig);
  for (let i = 0; i < 3; i++) assert.equal((await core.readNamespace({ name: 'default' })).metadata?.name, 'default');
  assert.deepEqual((await readFile(runs, 'utf8')).trim().split('\n'), ['ran'], 'one run for three requests');
});

/** A kubeconfig file in `scratch` whose user's credential comes from `sh -c script`, for an API server nothing listens on. */
async function execPluginKubeconfig(name: string, script: string): Promise<string> {
  const path = join(scratch, name);
  await writeFile(
    path,
    JSON.stringify({
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'u', user: { exec: { command: 'sh', args: ['-c', script] } } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return path;
}

test('a failing exec plugin is an error naming it and what it printed to stderr, never its credential output', async () => {
  const path = await execPluginKubeconfig('failing-kubeconfig', 'echo expired session >&2; exit 3');
  await assert.rejects(credentialsFor(kubeConfigFromFiles([path])), /exec plugin sh exited 3: expired session/);

  // A plugin that prints its token bare, not as an ExecCredential: the error says so without quoting it.
  const bare = await execPluginKubeconfig('bare-token-kubeconfig', 'echo SECRETTOKENVALUE');
  await assert.rejects(credentialsFor(kubeConfigFromFiles([bare])), (error: unknown) => {
    assert.match(String(error), /printed no ExecCredential: its output is not JSON/);
    assert.doesNotMatch(String(error), /SECRETTOKE/, 'not even the start JSON.parse would quote');
    return true;
  });
});

test('KUBECONFIG files merge as kubectl merges them: the first to name an entry wins, relative file paths resolve from their file', async () => {
  const dir = await mkdtemp(join(scratch, 'merge-'));
  await writeFile(join(dir, 'ca.pem'), 'CA FROM FILE');
  await writeFile(join(dir, 'token'), 'token-one\n');
  await writeFile(
    join(dir, 'first'),
    JSON.stringify({
      clusters: [{ name: 'shared', cluster: { server: 'https://first.example:6443/', 'certificate-authority': 'ca.pem', 'tls-server-name': 'api.internal' } }],
      users: [{ name: 'reader', user: { tokenFile: 'token' } }],
      'current-context': 'work',
    }),
  );
  await writeFile(
    join(dir, 'second'),
    JSON.stringify({
      clusters: [{ name: 'shared', cluster: { server: 'https://second.example' } }],
      users: [{ name: 'reader', user: { token: 'ignored' } }],
      contexts: [{ name: 'work', context: { cluster: 'shared', user: 'reader', namespace: 'team-a' } }],
      'current-context': 'other',
    }),
  );
  const merged = kubeConfigFromFiles([join(dir, 'first'), join(dir, 'missing'), join(dir, 'second')]);
  assert.equal(merged.server, 'https://first.example:6443');
  assert.equal(merged.namespace, 'team-a');
  assert.equal(merged.tls.ca?.toString(), 'CA FROM FILE');
  assert.equal(merged.tls.servername, 'api.internal');
  assert.deepEqual(merged.credentials, { type: 'tokenFile', path: join(dir, 'token') });
  assert.deepEqual(await credentialsFor(merged), { authorization: 'Bearer token-one' });

  await writeFile(
    join(dir, 'legacy'),
    JSON.stringify({
      clusters: [{ name: 'c', cluster: { server: 'https://x' } }],
      users: [{ name: 'u', user: { 'auth-provider': { name: 'gcp' } } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  assert.throws(() => kubeConfigFromFiles([join(dir, 'legacy')]), /auth-provider, which Kubernetes removed/);
  assert.throws(() => kubeConfigFromFiles([join(dir, 'missing')]), /no kubeconfig at/);
});

test('in a pod: the service account’s CA, namespace and token, the token read again once refused', async () => {
  const dir = await mkdtemp(join(scratch, 'serviceaccount-'));
  await writeFile(join(dir, 'ca.crt'), 'CLUSTER CA');
  await writeFile(join(dir, 'namespace'), 'infra-operator\n');
  await writeFile(join(dir, 'token'), 'first-token');
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  try {
    process.env.KUBERNETES_SERVICE_HOST = 'fd00::1';
    process.env.KUBERNETES_SERVICE_PORT = '443';
    const inCluster = inClusterKubeConfig(dir);
    assert.equal(inCluster.server, 'https://[fd00::1]:443');
    assert.equal(inCluster.namespace, 'infra-operator');
    assert.equal(inCluster.tls.ca?.toString(), 'CLUSTER CA');
    assert.deepEqual(await credentialsFor(inCluster), { authorization: 'Bearer first-token' });
    // The kubelet rotates the token; a 401 makes the next request read it again.
    await writeFile(join(dir, 'token'), 'rotated-token');
    assert.deepEqual(await credentialsFor(inCluster), { authorization: 'Bearer first-token' }, 'a fresh read is reused');
    forgetCredentials(inCluster);
    assert.deepEqual(await credentialsFor(inCluster), { authorization: 'Bearer rotated-token' });
    delete process.env.KUBERNETES_SERVICE_HOST;
    assert.throws(() => inClusterKubeConfig(dir), /not in a cluster/);
  } finally {
    for (const [name, value] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});
