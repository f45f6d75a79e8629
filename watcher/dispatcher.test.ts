import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomResource } from '../kube/client.js';
import type { ObjectRef } from '../contract/identity.js';
import type { ResourceChange } from '../workflows/messages.js';
import { Dispatcher, type WorkflowGateway } from './dispatcher.js';

interface Call {
  kind: 'changed' | 'dependency';
  target: string;
  change?: ResourceChange;
  start?: boolean;
}

function fakeGateway(failFirst = 0): { gateway: WorkflowGateway; calls: Call[] } {
  const calls: Call[] = [];
  let failures = failFirst;
  const target = (ref: ObjectRef) => `${ref.kind}/${ref.namespace}/${ref.name}`;
  return {
    calls,
    gateway: {
      async resourceChanged(ref, change, start) {
        if (failures-- > 0) throw new Error('temporal unavailable');
        calls.push({ kind: 'changed', target: target(ref), change, start });
      },
      async dependencyChanged(dependent) {
        calls.push({ kind: 'dependency', target: target(dependent) });
      },
    },
  };
}

function bucket(
  overrides: { generation?: number; uid?: string; deleting?: boolean; status?: Record<string, unknown>; annotations?: Record<string, string> } = {},
): CustomResource {
  return {
    apiVersion: 'aws-infra-operator.runner.codes/v1alpha1',
    kind: 'S3Bucket',
    metadata: {
      name: 'data',
      namespace: 'default',
      uid: overrides.uid ?? 'uid-1',
      generation: overrides.generation ?? 1,
      ...(overrides.deleting ? { deletionTimestamp: new Date() } : {}),
      ...(overrides.annotations ? { annotations: overrides.annotations } : {}),
    },
    spec: { providerRef: { name: 'aws' }, bucketName: 'data' },
    ...(overrides.status ? { status: overrides.status } : {}),
  };
}

function provider(status: Record<string, unknown>): CustomResource {
  return { apiVersion: 'x', kind: 'AWSProvider', metadata: { name: 'aws', namespace: 'default', uid: 'p', generation: 1 }, spec: { region: 'us-east-1' }, status };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('dispatcher: first list signals every object, a re-list of unchanged objects does not', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert('S3Bucket', bucket(), true);
  dispatcher.upsert('S3Bucket', bucket(), true);
  await settle();
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0], { kind: 'changed', target: 'S3Bucket/default/data', change: { uid: 'uid-1', generation: 1, deleting: false }, start: true });
});

test('dispatcher: status-only updates of the object itself are ignored; spec and deletion changes are not', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert('S3Bucket', bucket(), false);
  dispatcher.upsert('S3Bucket', bucket({ status: { ready: true } }), false);
  dispatcher.upsert('S3Bucket', bucket({ generation: 2, status: { ready: true } }), false);
  dispatcher.upsert('S3Bucket', bucket({ generation: 2, deleting: true, status: { ready: true } }), false);
  await settle();
  assert.deepEqual(calls.map((c) => c.change), [
    { uid: 'uid-1', generation: 1, deleting: false },
    { uid: 'uid-1', generation: 2, deleting: false },
    { uid: 'uid-1', generation: 2, deleting: true },
  ]);
});

test('dispatcher: a re-created object (new uid, same generation) is signalled', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert('S3Bucket', bucket(), false);
  dispatcher.upsert('S3Bucket', bucket({ uid: 'uid-2' }), false);
  await settle();
  assert.equal(calls.at(-1)?.change?.uid, 'uid-2');
});

test('dispatcher: a provider status change wakes resources that refer to it, a resync timestamp does not', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert('AWSProvider', provider({ ready: false, lastSyncTime: 't0' }), false);
  dispatcher.upsert('S3Bucket', bucket(), false);
  calls.length = 0;
  dispatcher.upsert('AWSProvider', provider({ ready: false, lastSyncTime: 't1' }), false);
  await settle();
  assert.equal(calls.length, 0, 'only lastSyncTime changed');
  dispatcher.upsert('AWSProvider', provider({ ready: true, lastSyncTime: 't2' }), false);
  await settle();
  assert.deepEqual(calls, [{ kind: 'dependency', target: 'S3Bucket/default/data' }]);
});

test('dispatcher: removal signals without starting a workflow, and wakes what the object referred to', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert('S3Bucket', bucket(), false);
  await settle();
  calls.length = 0;
  dispatcher.remove('S3Bucket', bucket());
  await settle();
  const own = calls.find((c) => c.kind === 'changed');
  assert.equal(own?.start, false);
  assert.equal(own?.change?.deleting, true);
  assert.ok(
    calls.some((c) => c.kind === 'dependency' && c.target === 'AWSProvider/default/aws'),
    'the provider it referred to is told (a VPC waiting for its subnets to go works the same way)',
  );
});

test('dispatcher: a failed signal is kept and re-sent', async () => {
  const { gateway, calls } = fakeGateway(1);
  const errors: string[] = [];
  const dispatcher = new Dispatcher(gateway, (message) => errors.push(message));
  dispatcher.upsert('S3Bucket', bucket(), false);
  await settle();
  assert.equal(calls.length, 0);
  assert.equal(dispatcher.pendingRetries(), 1);
  assert.equal(errors.length, 1);
  dispatcher.retryFailed();
  await settle();
  assert.equal(calls.length, 1);
  assert.equal(dispatcher.pendingRetries(), 0);
});

test('dispatcher: a change of our annotations (pause, management policy, adoption) signals; any other annotation does not', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert('S3Bucket', bucket(), false);
  dispatcher.upsert('S3Bucket', bucket({ annotations: { 'example.com/note': 'hello' } }), false);
  await settle();
  assert.equal(calls.length, 1, 'a foreign annotation is metadata-only');
  dispatcher.upsert('S3Bucket', bucket({ annotations: { 'example.com/note': 'hello', 'aws-infra-operator.runner.codes/paused': 'true' } }), false);
  await settle();
  assert.equal(calls.length, 2, 'pausing wakes the workflow');
  dispatcher.upsert('S3Bucket', bucket({ annotations: { 'aws-infra-operator.runner.codes/paused': 'true' } }), false);
  await settle();
  assert.equal(calls.length, 2, 'dropping a foreign annotation changes nothing of ours');
  dispatcher.upsert('S3Bucket', bucket({ annotations: { 'aws-infra-operator.runner.codes/adoption-policy': 'adopt' } }), false);
  dispatcher.upsert(
    'S3Bucket',
    bucket({ annotations: { 'aws-infra-operator.runner.codes/adoption-policy': 'adopt', 'aws-infra-operator.runner.codes/management-policy': 'Observe' } }),
    false,
  );
  await settle();
  assert.equal(calls.length, 4, 'unpausing plus adopting, then a management policy, each wake it');
});

test('dispatcher: an object first seen through a watch event is not signalled again by its first listing', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert('S3Bucket', bucket(), false);
  dispatcher.upsert('S3Bucket', bucket(), true);
  await settle();
  assert.equal(calls.length, 1);
});
