/**
 * The Kubernetes activities against a small in-memory API server that
 * answers like the real one where these activities depend on it: JSON
 * Patch `test` operations (409/422 on a stale resourceVersion), 404 for
 * what is gone, 403 for Events in a namespace being deleted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Annotations, FINALIZER, SECRET_IN_USE_FINALIZER } from '../../contract/identity.js';
import { kindDefinition } from '../../crds/index.js';
import { eventName, kubeActivities, managementFrom, recordedID } from './activities.js';
import type { KubeClients, CoreV1Api, CustomObjectsApi } from '../../kube/client.js';

interface StoredObject {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; generation?: number; finalizers?: string[]; deletionTimestamp?: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

type Operation = { op: 'test' | 'add'; path: string; value: unknown };

class FakeApi {
  readonly objects = new Map<string, StoredObject>();
  readonly patches: Array<{ key: string; operations: Operation[] }> = [];
  readonly events: unknown[] = [];
  /** GETs of custom resources. */
  reads = 0;
  eventStatus?: number;
  statusStatus?: number;
  /** Writes another client makes just before the next patch lands, to prove the guard. */
  racingWrite?: (object: StoredObject) => void;
  private version = 1;

  put(key: string, object: Omit<StoredObject, 'metadata'> & { metadata: Omit<StoredObject['metadata'], 'resourceVersion'> }): void {
    this.objects.set(key, { ...object, metadata: { ...object.metadata, resourceVersion: String(this.version++) } });
  }

  private fail(code: number): never {
    throw Object.assign(new Error(`HTTP ${code}`), { code });
  }

  private patch(key: string, operations: Operation[]): StoredObject {
    const object = this.objects.get(key) ?? this.fail(404);
    if (this.racingWrite) {
      this.racingWrite(object);
      this.racingWrite = undefined;
      object.metadata.resourceVersion = String(this.version++);
    }
    this.patches.push({ key, operations });
    for (const operation of operations) {
      const field = operation.path.split('/').pop() as keyof StoredObject['metadata'];
      if (operation.op === 'test' && object.metadata[field] !== operation.value) this.fail(422);
    }
    for (const operation of operations) {
      if (operation.op === 'add' && operation.path === '/metadata/finalizers') object.metadata.finalizers = operation.value as string[];
    }
    object.metadata.resourceVersion = String(this.version++);
    return object;
  }

  clients(): KubeClients {
    const custom: Partial<CustomObjectsApi> = {
      getNamespacedCustomObject: async ({ plural, namespace, name }) => {
        this.reads++;
        return structuredClone(this.objects.get(`${plural}/${namespace}/${name}`) ?? this.fail(404));
      },
      patchNamespacedCustomObject: async ({ plural, namespace, name, body }) =>
        this.patch(`${plural}/${namespace}/${name}`, body as Operation[]),
      patchNamespacedCustomObjectStatus: async () => (this.statusStatus ? this.fail(this.statusStatus) : {}),
      listClusterCustomObject: async ({ plural }) => ({
        items: [...this.objects].filter(([key]) => key.startsWith(`${plural}/`)).map(([, object]) => structuredClone(object)),
      }),
      listNamespacedCustomObject: async ({ plural, namespace }) => ({
        items: [...this.objects].filter(([key]) => key.startsWith(`${plural}/${namespace}/`)).map(([, object]) => structuredClone(object)),
      }),
    };
    const core: Partial<CoreV1Api> = {
      readNamespacedSecret: async ({ namespace, name }) =>
        structuredClone(this.objects.get(`secrets/${namespace}/${name}`) ?? this.fail(404)),
      patchNamespacedSecret: async ({ namespace, name, body }) => this.patch(`secrets/${namespace}/${name}`, body as Operation[]),
      createNamespacedEvent: async ({ body }) => {
        if (this.eventStatus) this.fail(this.eventStatus);
        if (this.events.some((event) => (event as { metadata?: { name?: string } }).metadata?.name === body.metadata?.name)) this.fail(409);
        this.events.push(body);
        return body;
      },
    };
    return { custom, core } as unknown as KubeClients;
  }
}

const bucketRef = { kind: 'S3Bucket', namespace: 'default', name: 'data' };
const providerRef = { kind: 'AWSProvider', namespace: 'default', name: 'aws' };

function withBucket(api: FakeApi, extra: Partial<StoredObject['metadata']> = {}): void {
  api.put('s3buckets/default/data', {
    metadata: { name: 'data', namespace: 'default', uid: 'uid-1', generation: 1, ...extra },
    spec: { providerRef: { name: 'aws' }, bucketName: 'data-bucket' },
  });
}

function withProvider(api: FakeApi, name: string, secret: string, extra: Partial<StoredObject['metadata']> = {}): void {
  api.put(`awsproviders/default/${name}`, {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, finalizers: [FINALIZER], ...extra },
    spec: { region: 'us-east-1', credentialsSecret: { name: secret } },
  });
}

test('the finalizer patch is guarded by uid and resourceVersion, and a racing writer is re-read, not overwritten', async () => {
  const api = new FakeApi();
  withBucket(api, { finalizers: ['someone-else/finalizer'] });
  api.racingWrite = (object) => {
    object.metadata.finalizers = [...(object.metadata.finalizers ?? []), 'late-comer/finalizer'];
  };
  assert.equal(await kubeActivities(api.clients()).addFinalizer(bucketRef, 'uid-1'), true);
  const [first, second] = api.patches;
  assert.deepEqual(first?.operations.slice(0, 2).map((operation) => operation.path), ['/metadata/uid', '/metadata/resourceVersion']);
  assert.ok(second, 'a conflict (422 on the test) makes it read again and patch again');
  assert.deepEqual(api.objects.get('s3buckets/default/data')?.metadata.finalizers, ['someone-else/finalizer', 'late-comer/finalizer', FINALIZER]);
});

test('the finalizer added right after a load patches what the load saw, without reading the object again; a change in between is read afresh', async () => {
  const api = new FakeApi();
  withBucket(api, { finalizers: ['someone-else/finalizer'] });
  const activities = kubeActivities(api.clients());
  await activities.loadResource(bucketRef);
  assert.equal(await activities.addFinalizer(bucketRef, 'uid-1'), true);
  assert.equal(api.reads, 1, 'one GET: the load');
  assert.deepEqual(api.objects.get('s3buckets/default/data')?.metadata.finalizers, ['someone-else/finalizer', FINALIZER]);

  // Someone writes between the load and the finalizer: the guarded patch fails and the object is read again.
  const other = new FakeApi();
  withBucket(other, { finalizers: ['someone-else/finalizer'] });
  const racing = kubeActivities(other.clients());
  await racing.loadResource(bucketRef);
  other.racingWrite = (object) => {
    object.metadata.finalizers = [...(object.metadata.finalizers ?? []), 'late-comer/finalizer'];
  };
  assert.equal(await racing.addFinalizer(bucketRef, 'uid-1'), true);
  assert.equal(other.reads, 2);
  assert.deepEqual(other.objects.get('s3buckets/default/data')?.metadata.finalizers, ['someone-else/finalizer', 'late-comer/finalizer', FINALIZER]);
});

test('the finalizer of a different object of the same name is never touched', async () => {
  const api = new FakeApi();
  withBucket(api, { uid: 'uid-2' });
  assert.equal(await kubeActivities(api.clients()).addFinalizer(bucketRef, 'uid-1'), false);
  assert.equal(api.patches.length, 0);
});

test('annotations of ours are read, and a bad value fails safe: paused stays paused, an unknown policy only observes', () => {
  assert.deepEqual(managementFrom(undefined), { management: { policy: 'Full', paused: false }, problems: [] });
  assert.deepEqual(
    managementFrom({ [Annotations.adoptionPolicy]: 'adopt', [Annotations.adoptionID]: 'vpc-1' }).management,
    { policy: 'Full', paused: false, adoption: 'adopt', adoptionID: 'vpc-1' },
  );
  const bad = managementFrom({ [Annotations.paused]: 'yes', [Annotations.managementPolicy]: 'ReadOnly' });
  assert.equal(bad.management.paused, true);
  assert.equal(bad.management.policy, 'Observe');
  assert.equal(bad.problems.length, 2);
  assert.match(bad.problems.join(' '), /must be "true" or "false"/);
  assert.match(managementFrom({ [Annotations.adoptionID]: 'vpc-1' }).problems.join(' '), /needs .*adoption-policy/);
});

test('loadResource reports a bad annotation as invalid, and the recorded externalID', async () => {
  const api = new FakeApi();
  withBucket(api, { annotations: { [Annotations.adoptionPolicy]: 'steal' } });
  api.objects.get('s3buckets/default/data')!.status = { externalID: 'data-bucket' };
  const loaded = await kubeActivities(api.clients()).loadResource(bucketRef);
  assert.match(loaded?.invalid ?? '', /adoption-policy must be one of adopt, adopt-or-create, got "steal"/);
  assert.equal(loaded?.externalID, 'data-bucket');
});

test('a provider being deleted lists the resources that still use it', async () => {
  const api = new FakeApi();
  withProvider(api, 'aws', 'keys', { deletionTimestamp: '2026-01-01T00:00:00Z' });
  withBucket(api);
  const loaded = await kubeActivities(api.clients()).loadResource(providerRef);
  assert.deepEqual(loaded?.usedBy, ['S3Bucket default/data']);
});

test('a live provider puts the in-use finalizer on its Secret; releasing it takes it off only when no other provider reads it', async () => {
  const api = new FakeApi();
  api.put('secrets/default/keys', { metadata: { name: 'keys', namespace: 'default', uid: 's', finalizers: ['other/keep'] } });
  withProvider(api, 'aws', 'keys');
  withProvider(api, 'aws-too', 'keys');
  const activities = kubeActivities(api.clients());
  await activities.loadResource(providerRef);
  assert.deepEqual(api.objects.get('secrets/default/keys')?.metadata.finalizers, ['other/keep', SECRET_IN_USE_FINALIZER]);
  await activities.removeFinalizer(providerRef, 'uid-aws');
  assert.ok(api.objects.get('secrets/default/keys')?.metadata.finalizers?.includes(SECRET_IN_USE_FINALIZER), 'aws-too still reads it');
  api.objects.delete('awsproviders/default/aws-too');
  withProvider(api, 'aws', 'keys');
  await activities.removeFinalizer(providerRef, 'uid-aws');
  assert.deepEqual(api.objects.get('secrets/default/keys')?.metadata.finalizers, ['other/keep']);
});

test('an Event refused (a namespace being deleted answers 403) never fails the activity; a 403 status write neither', async () => {
  const api = new FakeApi();
  api.eventStatus = 403;
  api.statusStatus = 403;
  const activities = kubeActivities(api.clients());
  await activities.recordEvent(bucketRef, 'uid-1', { type: 'Normal', reason: 'Deleted', message: 'gone' });
  await activities.patchStatus(bucketRef, 'uid-1', { ready: false, phase: 'Deleting', lastSyncTime: 'now', conditions: [] });
  api.statusStatus = 500;
  await assert.rejects(activities.patchStatus(bucketRef, 'uid-1', { ready: false, phase: 'Deleting', lastSyncTime: 'now', conditions: [] }));
});

test('a queue policy that is not a JSON document is refused before any AWS call, naming the field', async () => {
  const api = new FakeApi();
  api.put('sqsqueues/default/q', {
    metadata: { name: 'q', namespace: 'default', uid: 'uid-q', generation: 1 },
    spec: { providerRef: { name: 'aws' }, queueName: 'q', policy: '{"Version": "2012-10-17", "Statement": [' },
  });
  const loaded = await kubeActivities(api.clients()).loadResource({ kind: 'SQSQueue', namespace: 'default', name: 'q' });
  assert.match(loaded?.invalid ?? '', /\/policy/);
  api.objects.get('sqsqueues/default/q')!.spec!.policy = '{"Version": "2012-10-17", "Statement": []}';
  assert.equal((await kubeActivities(api.clients()).loadResource({ kind: 'SQSQueue', namespace: 'default', name: 'q' }))?.invalid, undefined);
});

test('an Event recorded again under the same key (a retried workflow task) is posted once', async () => {
  const api = new FakeApi();
  const activities = kubeActivities(api.clients());
  const event = { type: 'Normal' as const, reason: 'Created', message: 'created the AWS resource', key: 'run-1.3' };
  await activities.recordEvent(bucketRef, 'uid-1', event);
  await activities.recordEvent(bucketRef, 'uid-1', event);
  assert.equal(api.events.length, 1);
  await activities.recordEvent(bucketRef, 'uid-1', { ...event, key: 'run-1.4' });
  assert.equal(api.events.length, 2, 'another key is another Event');
  assert.equal(eventName(bucketRef, event), 'data.run-1.3');
});

test("a status written before externalID existed still names the operator's resource; one it only observed or refused does not", () => {
  const vpc = kindDefinition('VPC');
  const ready = (reason: string) => ({ ready: true, vpcID: 'vpc-old', conditions: [{ type: 'Ready', status: 'True', reason }] });
  assert.equal(recordedID(vpc, { externalID: 'vpc-new', vpcID: 'vpc-old' }), 'vpc-new');
  assert.equal(recordedID(vpc, ready('Available')), 'vpc-old', 'Ready as ours under an older operator');
  assert.equal(recordedID(vpc, ready('Observed')), undefined, 'observe-only never makes it ours');
  assert.equal(recordedID(vpc, { ...ready('Available'), ready: false }), undefined);
  assert.equal(recordedID(vpc, undefined), undefined);
});
