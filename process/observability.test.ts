import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClients } from '../kube/client.js';
import { startOperatorHttp, type Check } from './http.js';
import { refOfWorkflowId, resourceFields, sdkFields } from './log.js';
import { instrumentKubeClients, kubeVerb, sampleValue } from './metrics.js';

test('kube client method names map to Kubernetes verbs', () => {
  assert.equal(kubeVerb('readNamespacedSecret'), 'get');
  assert.equal(kubeVerb('getNamespacedCustomObject'), 'get');
  assert.equal(kubeVerb('listClusterCustomObject'), 'list');
  assert.equal(kubeVerb('createNamespacedEvent'), 'create');
  assert.equal(kubeVerb('patchNamespacedCustomObjectStatus'), 'patch');
  assert.equal(kubeVerb('replaceNamespacedCustomObject'), 'update');
  assert.equal(kubeVerb('deleteNamespacedSecret'), 'delete');
  assert.equal(kubeVerb('deleteCollectionNamespacedEvent'), 'deletecollection');
  assert.equal(kubeVerb('constructor'), undefined);
});

test('Kubernetes requests are counted by verb and code, and still answer or throw as before', async () => {
  class FakeCustom {
    value = 'read';
    async getNamespacedCustomObject(): Promise<string> {
      return this.value;
    }
    async patchNamespacedCustomObject(): Promise<never> {
      throw Object.assign(new Error('conflict'), { code: 409 });
    }
  }
  const clients = instrumentKubeClients({ config: {}, core: {}, custom: new FakeCustom() } as unknown as KubeClients);
  const custom = clients.custom as unknown as FakeCustom;
  const gets = await sampleValue('infra_operator_kube_requests_total', { verb: 'get', code: 'ok' });
  const conflicts = await sampleValue('infra_operator_kube_requests_total', { verb: 'patch', code: '409' });
  assert.equal(await custom.getNamespacedCustomObject(), 'read', 'the method still runs on its object');
  await assert.rejects(custom.patchNamespacedCustomObject(), /conflict/);
  assert.equal(await sampleValue('infra_operator_kube_requests_total', { verb: 'get', code: 'ok' }), gets + 1);
  assert.equal(await sampleValue('infra_operator_kube_requests_total', { verb: 'patch', code: '409' }), conflicts + 1);
  assert.equal(custom.value, 'read', 'properties pass through');
});

test('/healthz, /readyz and /metrics answer with the checks and the registry', async () => {
  let ready: Check = { ok: false, detail: 'connecting to Temporal' };
  const server = await startOperatorHttp(0, { live: () => ({ ok: true, detail: 'alive' }), ready: () => ready });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const live = await fetch(`${base}/healthz`);
    assert.equal(live.status, 200);
    const notReady = await fetch(`${base}/readyz`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), { ok: false, detail: 'connecting to Temporal' });
    ready = { ok: true, detail: 'polling' };
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    const text = await metrics.text();
    assert.match(text, /# TYPE infra_operator_kube_requests_total counter/);
    assert.match(text, /infra_operator_process_cpu_seconds_total/);
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});

test('log lines about a resource carry kind, namespace, name and workflowId, also from the SDK', () => {
  const ref = { kind: 'S3Bucket', namespace: 'team-a', name: 'logs' };
  assert.deepEqual(resourceFields(ref), { ...ref, workflowId: 'S3Bucket/team-a/logs' });
  assert.deepEqual(refOfWorkflowId('S3Bucket/team-a/logs'), ref);
  assert.equal(refOfWorkflowId('temporal-sys-scheduler'), undefined);
  assert.equal(refOfWorkflowId('a//b'), undefined);
  const fields = sdkFields({
    workflowId: 'S3Bucket/team-a/logs',
    namespace: 'default',
    activityType: 'observeResource',
    attempt: 2,
    error: new TypeError('boom'),
    details: { a: 1 },
  });
  assert.deepEqual(fields, {
    workflowId: 'S3Bucket/team-a/logs',
    temporalNamespace: 'default',
    activityType: 'observeResource',
    attempt: 2,
    error: 'TypeError: boom',
    details: '{"a":1}',
    kind: 'S3Bucket',
    namespace: 'team-a',
    name: 'logs',
  });
  assert.deepEqual(sdkFields({ taskQueue: 'q' }), { taskQueue: 'q' }, 'a line naming no resource gets no resource fields');
});
