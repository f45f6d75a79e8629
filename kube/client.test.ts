import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startStack, type LocalStack } from '../test/support/stack.js';
import { kubeClients, kubeConnectionStats } from './client.js';

let stack: LocalStack | undefined;
let config: KubeConfig;

before(async () => {
  stack = await startStack({ components: ['etcd', 'kube'] });
  config = new KubeConfig();
  config.loadFromFile(stack.kubeconfigPath);
});

after(async () => {
  await stack?.stop();
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

test(`${GETS} GETs through kubeClients() reuse one or two connections, over TLS with the kubeconfig's credentials`, async (t) => {
  assert.ok(config.getCurrentCluster()?.server.startsWith('https:'), 'the test API server is https');

  // The library's own clients, for comparison: a new agent, so a new
  // connection, on every request.
  const plain = config.makeApiClient(CoreV1Api);
  const before = await tlsConnections(async () => {
    for (let i = 0; i < GETS; i++) await plain.readNamespace({ name: 'default' });
  });

  const start = kubeConnectionStats().opened;
  // Two kubeClients() calls: the agent is the process's, not one client's.
  const clients = [kubeClients(config), kubeClients(config)] as const;
  const afterCount = await tlsConnections(async () => {
    for (let i = 0; i < GETS; i++) {
      const namespace = await clients[i % 2 === 0 ? 0 : 1].core.readNamespace({ name: 'default' });
      assert.equal(namespace.metadata?.name, 'default');
    }
  });
  const opened = kubeConnectionStats().opened - start;
  t.diagnostic(`${GETS} sequential GETs: ${before} TLS connections with client-node's agents, ${afterCount} with the shared agent`);
  assert.ok(afterCount <= 2, `${afterCount} TLS connections for ${GETS} GETs`);
  assert.equal(opened, afterCount);

  // Concurrent requests open at most one connection each and then reuse them.
  const concurrent = await tlsConnections(async () => {
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 5 }, () => clients[0].core.readNamespace({ name: 'kube-system' })));
    }
  });
  assert.ok(concurrent <= 5, `${concurrent} TLS connections for 3 rounds of 5 concurrent GETs`);
  assert.ok(kubeConnectionStats().open <= 6);
});

test('a 404 still arrives as code 404 through the shared agent', async () => {
  const clients = kubeClients(config);
  await assert.rejects(clients.core.readNamespace({ name: 'no-such-namespace' }), (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, 404);
    return true;
  });
});
