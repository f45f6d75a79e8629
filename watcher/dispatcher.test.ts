import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomResource } from '../kube/client.js';
import type { ObjectRef } from '../contract/identity.js';
import type { ResourceChange } from '../workflows/messages.js';
import { kindDefinition } from '../crds/index.js';
import { Dispatcher, parseMaxInFlight, type WorkflowGateway } from './dispatcher.js';
import { watchedObject, type WatchedObject } from './resource-watch.js';

const watched = (kind: string, object: CustomResource): WatchedObject => watchedObject(kindDefinition(kind), object);

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
      ...(overrides.deleting ? { deletionTimestamp: new Date().toISOString() } : {}),
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
  dispatcher.upsert(watched('S3Bucket', bucket()), true);
  dispatcher.upsert(watched('S3Bucket', bucket()), true);
  await settle();
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0], { kind: 'changed', target: 'S3Bucket/default/data', change: { uid: 'uid-1', generation: 1, deleting: false }, start: true });
});

test('dispatcher: status-only updates of the object itself are ignored; spec and deletion changes are not', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  // Settled after each, so no change is coalesced into the next.
  for (const object of [
    bucket(),
    bucket({ status: { ready: true } }),
    bucket({ generation: 2, status: { ready: true } }),
    bucket({ generation: 2, deleting: true, status: { ready: true } }),
  ]) {
    dispatcher.upsert(watched('S3Bucket', object), false);
    await settle();
  }
  assert.deepEqual(calls.map((c) => c.change), [
    { uid: 'uid-1', generation: 1, deleting: false },
    { uid: 'uid-1', generation: 2, deleting: false },
    { uid: 'uid-1', generation: 2, deleting: true },
  ]);
});

test('dispatcher: a re-created object (new uid, same generation) is signalled', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert(watched('S3Bucket', bucket()), false);
  dispatcher.upsert(watched('S3Bucket', bucket({ uid: 'uid-2' })), false);
  await settle();
  assert.equal(calls.at(-1)?.change?.uid, 'uid-2');
});

test('dispatcher: a provider status change wakes resources that refer to it, a resync timestamp does not', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert(watched('AWSProvider', provider({ ready: false, lastSyncTime: 't0' })), false);
  dispatcher.upsert(watched('S3Bucket', bucket()), false);
  calls.length = 0;
  dispatcher.upsert(watched('AWSProvider', provider({ ready: false, lastSyncTime: 't1' })), false);
  await settle();
  assert.equal(calls.length, 0, 'only lastSyncTime changed');
  dispatcher.upsert(watched('AWSProvider', provider({ ready: true, lastSyncTime: 't2' })), false);
  await settle();
  assert.deepEqual(calls, [{ kind: 'dependency', target: 'S3Bucket/default/data' }]);
});

test('dispatcher: removal signals without starting a workflow, and wakes what the object referred to', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert(watched('S3Bucket', bucket()), false);
  await settle();
  calls.length = 0;
  dispatcher.remove(watched('S3Bucket', bucket()));
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
  dispatcher.upsert(watched('S3Bucket', bucket()), false);
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
  dispatcher.upsert(watched('S3Bucket', bucket()), false);
  dispatcher.upsert(watched('S3Bucket', bucket({ annotations: { 'example.com/note': 'hello' } })), false);
  await settle();
  assert.equal(calls.length, 1, 'a foreign annotation is metadata-only');
  dispatcher.upsert(watched('S3Bucket', bucket({ annotations: { 'example.com/note': 'hello', 'aws-infra-operator.runner.codes/paused': 'true' } })), false);
  await settle();
  assert.equal(calls.length, 2, 'pausing wakes the workflow');
  dispatcher.upsert(watched('S3Bucket', bucket({ annotations: { 'aws-infra-operator.runner.codes/paused': 'true' } })), false);
  await settle();
  assert.equal(calls.length, 2, 'dropping a foreign annotation changes nothing of ours');
  dispatcher.upsert(watched('S3Bucket', bucket({ annotations: { 'aws-infra-operator.runner.codes/adoption-policy': 'adopt' } })), false);
  dispatcher.upsert(
    watched('S3Bucket', bucket({ annotations: { 'aws-infra-operator.runner.codes/adoption-policy': 'adopt', 'aws-infra-operator.runner.codes/management-policy': 'Observe' } })),
    false,
  );
  await settle();
  assert.equal(calls.length, 4, 'unpausing plus adopting, then a management policy, each wake it');
});

test('dispatcher: an object first seen through a watch event is not signalled again by its first listing', async () => {
  const { gateway, calls } = fakeGateway();
  const dispatcher = new Dispatcher(gateway, () => {});
  dispatcher.upsert(watched('S3Bucket', bucket()), false);
  dispatcher.upsert(watched('S3Bucket', bucket()), true);
  await settle();
  assert.equal(calls.length, 1);
});

/** A gateway whose calls take `delayMs` each (or wait for `release()`), counting how many run at once. */
function slowGateway(delayMs: number): {
  gateway: WorkflowGateway;
  delivered: { target: string; change?: ResourceChange; kind: 'changed' | 'dependency' }[];
  peak: () => number;
} {
  const delivered: { target: string; change?: ResourceChange; kind: 'changed' | 'dependency' }[] = [];
  let running = 0;
  let peak = 0;
  const run = async (entry: (typeof delivered)[number]) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    running--;
    delivered.push(entry);
  };
  const target = (ref: ObjectRef) => `${ref.kind}/${ref.namespace}/${ref.name}`;
  return {
    delivered,
    peak: () => peak,
    gateway: {
      resourceChanged: (ref, change) => run({ kind: 'changed', target: target(ref), change }),
      dependencyChanged: (dependent) => run({ kind: 'dependency', target: target(dependent) }),
    },
  };
}

function named(name: string, generation = 1): CustomResource {
  const object = bucket({ generation, uid: `uid-${name}` });
  return { ...object, metadata: { ...object.metadata, name } };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('dispatcher: 200 upserts against a slow gateway never exceed maxInFlight, and each is delivered exactly once', async () => {
  const { gateway, delivered, peak } = slowGateway(5);
  const dispatcher = new Dispatcher(gateway, () => {}, { maxInFlight: 16 });
  for (let i = 0; i < 200; i++) dispatcher.upsert(watched('S3Bucket', named(`b${i}`)), true);
  assert.equal(dispatcher.signalStats().inFlight, 16);
  assert.equal(dispatcher.signalStats().queued, 184);
  await until(() => delivered.length === 200 && dispatcher.signalStats().inFlight === 0, '200 deliveries');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(delivered.length, 200, 'nothing delivered twice');
  assert.equal(new Set(delivered.map((d) => d.target)).size, 200);
  assert.equal(peak(), 16);
  assert.equal(dispatcher.signalStats().peakInFlight, 16);
});

test('dispatcher: the default limit is 16 calls in flight', async () => {
  const { gateway, delivered, peak } = slowGateway(2);
  const dispatcher = new Dispatcher(gateway, () => {});
  for (let i = 0; i < 50; i++) dispatcher.upsert(watched('S3Bucket', named(`b${i}`)), false);
  await until(() => delivered.length === 50, '50 deliveries');
  assert.equal(peak(), 16);
});

test('dispatcher: a new object and a changed one are delivered before the first-list confirmations queued ahead of them', async () => {
  const { gateway, delivered } = slowGateway(2);
  const dispatcher = new Dispatcher(gateway, () => {}, { maxInFlight: 1 });
  for (let i = 0; i < 10; i++) dispatcher.upsert(watched('S3Bucket', named(`b${i}`)), true);
  // b0 is in flight; b1…b9 wait as confirmations. b7 changes, b-new appears.
  dispatcher.upsert(watched('S3Bucket', named('b7', 2)), false);
  dispatcher.upsert(watched('S3Bucket', named('new')), false);
  await until(() => delivered.length === 11, 'every delivery');
  assert.deepEqual(
    delivered.map((d) => `${d.target.split('/')[2]}@${d.change?.generation}`),
    ['b0@1', 'b7@2', 'new@1', 'b1@1', 'b2@1', 'b3@1', 'b4@1', 'b5@1', 'b6@1', 'b8@1', 'b9@1'],
  );
});

test('dispatcher: two changes of one object while it is queued deliver only the newest', async () => {
  const { gateway, delivered } = slowGateway(5);
  const dispatcher = new Dispatcher(gateway, () => {}, { maxInFlight: 1 });
  dispatcher.upsert(watched('S3Bucket', named('a')), false);
  dispatcher.upsert(watched('S3Bucket', named('b')), false);
  dispatcher.upsert(watched('S3Bucket', named('b', 2)), false);
  dispatcher.upsert(watched('S3Bucket', named('b', 3)), false);
  await until(() => delivered.length === 2 && dispatcher.signalStats().inFlight === 0, 'two deliveries');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(
    delivered.map((d) => `${d.target.split('/')[2]}@${d.change?.generation}`),
    ['a@1', 'b@3'],
  );
});

test('dispatcher: a change of an object whose previous signal is in flight waits for it, so the two never arrive swapped', async () => {
  const { gateway, delivered, peak } = slowGateway(5);
  const dispatcher = new Dispatcher(gateway, () => {}, { maxInFlight: 4 });
  dispatcher.upsert(watched('S3Bucket', named('a')), false);
  dispatcher.upsert(watched('S3Bucket', named('a', 2)), false);
  assert.deepEqual(dispatcher.signalStats(), { queued: 1, inFlight: 1, peakInFlight: 1 });
  await until(() => delivered.length === 2, 'two deliveries');
  assert.deepEqual(delivered.map((d) => d.change?.generation), [1, 2]);
  assert.equal(peak(), 1);
});

test('dispatcher: dependency notifications share the limit and come after resource changes', async () => {
  const { gateway, delivered, peak } = slowGateway(2);
  const dispatcher = new Dispatcher(gateway, () => {}, { maxInFlight: 2 });
  dispatcher.upsert(watched('AWSProvider', provider({ ready: false })), false);
  for (let i = 0; i < 5; i++) dispatcher.upsert(watched('S3Bucket', named(`b${i}`)), false);
  // Five dependents to wake, queued behind what is still waiting.
  dispatcher.upsert(watched('AWSProvider', provider({ ready: true })), false);
  dispatcher.upsert(watched('S3Bucket', named('late')), false);
  await until(() => delivered.length === 12, 'every delivery');
  assert.ok(peak() <= 2, `peak ${peak()}`);
  const late = delivered.findIndex((d) => d.target.endsWith('/late'));
  const firstDependency = delivered.findIndex((d) => d.kind === 'dependency');
  assert.ok(late < firstDependency, `a resource change queued after the notifications went first: ${JSON.stringify(delivered)}`);
  assert.equal(delivered.filter((d) => d.kind === 'dependency').length, 5);
});

test('dispatcher: a failed signal superseded by a newer queued one is not retried', async () => {
  let fail = true;
  const delivered: number[] = [];
  const gateway: WorkflowGateway = {
    async resourceChanged(_ref, change) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) {
        fail = false;
        throw new Error('temporal unavailable');
      }
      delivered.push(change.generation);
    },
    async dependencyChanged() {},
  };
  const dispatcher = new Dispatcher(gateway, () => {}, { maxInFlight: 1 });
  dispatcher.upsert(watched('S3Bucket', named('a')), false);
  dispatcher.upsert(watched('S3Bucket', named('a', 2)), false);
  await until(() => delivered.length === 1, 'the newer signal');
  assert.equal(dispatcher.pendingRetries(), 0);
  dispatcher.retryFailed();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(delivered, [2]);
});

test('dispatcher: MAX_INFLIGHT_SIGNALS is a positive integer, 16 when unset', () => {
  assert.equal(parseMaxInFlight(undefined), 16);
  assert.equal(parseMaxInFlight(''), 16);
  assert.equal(parseMaxInFlight('64'), 64);
  for (const raw of ['0', '-1', '2.5', 'many']) assert.throws(() => parseMaxInFlight(raw), /MAX_INFLIGHT_SIGNALS must be a positive integer/);
});
