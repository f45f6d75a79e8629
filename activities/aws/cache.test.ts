import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { AwsRequest } from '../../contract/activities.js';
import type { KubeClients, CoreV1Api, CustomObjectsApi } from '../../kube/client.js';
import { EXPIRY_MARGIN_MS, LruCache, sharedIdentity } from './cache.js';
import { PassContexts, awsContextFor, type AwsSettings } from './context.js';
import { clearCredentialCache } from './credentials.js';
import { fakeSts } from '../../test/support/fake-sts.js';

const settings: AwsSettings = { clusterID: 'cluster-1', ambientCredentialNamespaces: [] };
const heartbeat = () => {};

/** One AWSProvider team-a/shared with roleARN, and its keys Secret team-a/aws; both can be edited. */
function world(endpoint: string) {
  const state = { uid: 'provider-uid-1', generation: 1, secretVersion: '100', secretReads: 0, providerReads: 0 };
  const custom: Pick<CustomObjectsApi, 'getNamespacedCustomObject'> = {
    getNamespacedCustomObject: async ({ plural, namespace, name }) => {
      assert.equal(`${plural}/${namespace}/${name}`, 'awsproviders/team-a/shared');
      state.providerReads++;
      return {
        apiVersion: 'aws-infra-operator.runner.codes/v1alpha1',
        kind: 'AWSProvider',
        metadata: { name, namespace, uid: state.uid, generation: state.generation },
        spec: {
          region: 'eu-west-1',
          endpoint,
          roleARN: 'arn:aws:iam::123456789012:role/r',
          accessKeyIDRef: { name: 'aws', key: 'access-key-id' },
          secretAccessKeyRef: { name: 'aws', key: 'secret-access-key' },
        },
        status: { ready: true, observedGeneration: state.generation, accountID: '123456789012' },
      };
    },
  };
  const core: Pick<CoreV1Api, 'readNamespacedSecret'> = {
    readNamespacedSecret: async ({ name, namespace }) => {
      assert.equal(`${namespace}/${name}`, 'team-a/aws');
      state.secretReads++;
      const base64 = (value: string) => Buffer.from(value).toString('base64');
      return {
        metadata: { name, namespace, resourceVersion: state.secretVersion },
        data: { 'access-key-id': base64('AKIAEXAMPLEEXAMPLE01'), 'secret-access-key': base64('not-shown') },
      };
    },
  };
  return { clients: { custom, core } as unknown as KubeClients, state };
}

function bucket(i: number): AwsRequest {
  return {
    ref: { kind: 'S3Bucket', namespace: 'team-a', name: `bucket-${i}` },
    uid: `bucket-uid-${i}`,
    spec: { providerRef: { name: 'shared' }, bucketName: `b-${i}` },
  };
}

/** awsContextFor for `count` resources of the provider, each resolving its credentials through its own SDK client. */
async function activities(clients: KubeClients, count: number, concurrent = false): Promise<AwsCredentialIdentity[]> {
  const one = async (i: number) => {
    const context = await awsContextFor(clients, settings, bucket(i), heartbeat);
    return context.client(STSClient).config.credentials();
  };
  if (concurrent) return Promise.all(Array.from({ length: count }, (_, i) => one(i)));
  const identities: AwsCredentialIdentity[] = [];
  for (let i = 0; i < count; i++) identities.push(await one(i));
  return identities;
}

test('20 activities of one provider with roleARN make one AssumeRole; a new generation or Secret version makes another', async () => {
  clearCredentialCache();
  const sts = await fakeSts();
  try {
    const { clients, state } = world(sts.url);
    const first = await activities(clients, 20);
    assert.equal(sts.assumeRoles(), 1);
    assert.ok(first.every((identity) => identity.accessKeyId === 'ASIAASSUMED000000001'));
    assert.equal(state.secretReads, 20, 'the Secret is read once per activity, for its resourceVersion');

    state.generation = 2;
    await activities(clients, 20);
    assert.equal(sts.assumeRoles(), 2, 'an edited provider');

    state.secretVersion = '101';
    await activities(clients, 20);
    assert.equal(sts.assumeRoles(), 3, 'a rotated Secret');

    state.uid = 'provider-uid-2';
    await activities(clients, 20);
    assert.equal(sts.assumeRoles(), 4, 'a provider deleted and made again');

    // Back to an identity still cached: no AssumeRole.
    state.uid = 'provider-uid-1';
    await activities(clients, 5);
    assert.equal(sts.assumeRoles(), 4);
  } finally {
    await sts.close();
  }
});

test('concurrent activities of one provider share one AssumeRole', async () => {
  clearCredentialCache();
  const sts = await fakeSts();
  try {
    const { clients } = world(sts.url);
    await activities(clients, 20, true);
    assert.equal(sts.assumeRoles(), 1);
  } finally {
    await sts.close();
  }
});

test('sharedIdentity fetches once, again near expiry, and again after a failure', async () => {
  let clock = 0;
  let calls = 0;
  let fail = false;
  const provider = sharedIdentity(async () => {
    calls++;
    if (fail) throw new Error('sts down');
    return { accessKeyId: `k${calls}`, secretAccessKey: 's', expiration: new Date(clock + 60 * 60_000) };
  }, () => clock);
  const results = await Promise.all([provider(), provider(), provider()]);
  assert.equal(calls, 1);
  assert.ok(results.every((identity) => identity.accessKeyId === 'k1'));
  clock = 60 * 60_000 - EXPIRY_MARGIN_MS - 1;
  assert.equal((await provider()).accessKeyId, 'k1');
  clock += 2;
  fail = true;
  await assert.rejects(provider(), /sts down/);
  fail = false;
  assert.equal((await provider()).accessKeyId, 'k3');
  assert.equal(calls, 3);

  let forever = 0;
  const noExpiry = sharedIdentity(async () => ({ accessKeyId: `n${++forever}`, secretAccessKey: 's' }));
  await noExpiry();
  await noExpiry();
  assert.equal(forever, 1);
});

test('LruCache keeps the most recently used entries', () => {
  const cache = new LruCache<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  assert.equal(cache.get('a'), 1);
  cache.set('c', 3);
  assert.equal(cache.get('b'), undefined, 'b was the least recently used');
  assert.equal(cache.get('a'), 1);
  assert.equal(cache.get('c'), 3);
  assert.equal(cache.size, 2);
  assert.throws(() => new LruCache(0), /at least 1/);
});

test('the activities of one pass read the provider and its Secret once; the next pass, and a retry after a failure, read again', async () => {
  clearCredentialCache();
  const sts = await fakeSts();
  try {
    const { clients, state } = world(sts.url);
    let clock = 0;
    const contexts = new PassContexts(clients, settings, () => clock);
    const inPass = (pass: string): AwsRequest => ({ ...bucket(1), pass });

    // observe, create, and the look after: one pass.
    for (let i = 0; i < 3; i++) await contexts.contextFor(inPass('run-1.0'), heartbeat);
    assert.deepEqual([state.providerReads, state.secretReads], [1, 1]);

    state.generation = 2;
    const next = await contexts.contextFor(inPass('run-1.1'), heartbeat);
    assert.deepEqual([state.providerReads, state.secretReads], [2, 2], 'a new pass sees the edited provider');
    assert.equal(next.region, 'eu-west-1');

    contexts.forget(inPass('run-1.1'));
    await contexts.contextFor(inPass('run-1.1'), heartbeat);
    assert.deepEqual([state.providerReads, state.secretReads], [3, 3], 'a failed activity forgets what its pass read');

    clock += 60_000;
    await contexts.contextFor(inPass('run-1.1'), heartbeat);
    assert.equal(state.providerReads, 4, 'an activity that comes long after its pass began reads again');

    // Another resource in the same pass name (another workflow) shares nothing with it.
    await contexts.contextFor({ ...bucket(2), pass: 'run-1.1' }, heartbeat);
    assert.equal(state.providerReads, 5);
    // Without a pass (an older workflow's request): every activity reads.
    await contexts.contextFor(bucket(3), heartbeat);
    await contexts.contextFor(bucket(3), heartbeat);
    assert.equal(state.providerReads, 7);
  } finally {
    await sts.close();
  }
});
