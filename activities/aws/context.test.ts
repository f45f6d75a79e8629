import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AWSProviderSpec } from '../../crds/kinds/aws-provider.js';
import type { AwsRequest } from '../../contract/activities.js';
import { FailureType } from '../../contract/failures.js';
import { failure, reasonOf } from './testing.js';
import { CLUSTER_TAG } from '../../contract/identity.js';
import type { KubeClients, CoreV1Api, CustomObjectsApi } from '../../kube/client.js';
import { PassContexts, awsContextFor, type AwsSettings } from './context.js';

const settings: AwsSettings = { clusterID: 'cluster-1', ambientCredentialNamespaces: [] };

const keyRefs = {
  accessKeyIDRef: { name: 'aws', key: 'access-key-id' },
  secretAccessKeyRef: { name: 'aws', key: 'secret-access-key' },
};

interface ProviderOptions {
  namespace?: string;
  spec?: Partial<AWSProviderSpec>;
  generation?: number;
  observedGeneration?: number;
  ready?: boolean;
  readyMessage?: string;
  deleting?: boolean;
}

/** An AWSProvider object as the API returns it; Ready for its generation unless told otherwise. */
function provider(name: string, options: ProviderOptions = {}): object {
  const generation = options.generation ?? 1;
  return {
    apiVersion: 'aws-infra-operator.runner.codes/v1alpha1',
    kind: 'AWSProvider',
    metadata: {
      name,
      namespace: options.namespace ?? 'team-a',
      generation,
      ...(options.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { region: 'eu-west-1', ...keyRefs, ...options.spec },
    status: {
      ready: options.ready ?? true,
      observedGeneration: options.observedGeneration ?? generation,
      accountID: '123456789012',
      conditions: [{ type: 'Ready', status: String(options.ready ?? true), message: options.readyMessage ?? 'ok' }],
    },
  };
}

/**
 * KubeClients with only what awsContextFor uses: custom resources keyed
 * `plural/namespace/name`, Secrets keyed `namespace/name` (each one holds
 * the same keys).
 */
function fakeClients(objects: Record<string, object>, secrets: string[]): KubeClients {
  const notFound = (what: string) => Object.assign(new Error(`${what} not found`), { code: 404 });
  const custom: Pick<CustomObjectsApi, 'getNamespacedCustomObject'> = {
    getNamespacedCustomObject: async ({ plural, namespace, name }) => {
      const object = objects[`${plural}/${namespace}/${name}`];
      if (!object) throw notFound(`${plural} ${name}`);
      return structuredClone(object);
    },
  };
  const core: Pick<CoreV1Api, 'readNamespacedSecret'> = {
    readNamespacedSecret: async ({ name, namespace }) => {
      if (!secrets.includes(`${namespace}/${name}`)) throw notFound(`secrets ${name}`);
      const base64 = (value: string) => Buffer.from(value).toString('base64');
      return { data: { 'access-key-id': base64('AKIAEXAMPLEEXAMPLE01'), 'secret-access-key': base64('not-shown') } };
    },
  };
  return { custom, core } as unknown as KubeClients;
}

/** An S3Bucket in `namespace` using provider `providerNamespace/shared`. */
function bucketRequest(namespace: string, providerNamespace?: string): AwsRequest {
  return {
    ref: { kind: 'S3Bucket', namespace, name: 'bucket' },
    uid: 'uid-1',
    spec: { providerRef: { name: 'shared', ...(providerNamespace ? { namespace: providerNamespace } : {}) }, bucketName: 'b' },
  };
}

const heartbeat = () => {};

test('a provider in the resource namespace is used', async () => {
  const clients = fakeClients({ 'awsproviders/team-a/shared': provider('shared') }, ['team-a/aws']);
  const context = await awsContextFor(clients, settings, bucketRequest('team-a'), heartbeat);
  assert.equal(context.region, 'eu-west-1');
  assert.equal(context.accountID, '123456789012');
  assert.equal(context.tags[CLUSTER_TAG], 'cluster-1');
});

test('a provider in another namespace is refused without allowedNamespaces, before its readiness is looked at', async () => {
  for (const options of [{}, { spec: { allowedNamespaces: ['team-c'] } }, { ready: false, readyMessage: 'private detail' }]) {
    const clients = fakeClients({ 'awsproviders/team-a/shared': provider('shared', options) }, ['team-a/aws']);
    const error = await failure(awsContextFor(clients, settings, bucketRequest('team-b', 'team-a'), heartbeat));
    assert.equal(error.type, FailureType.ProviderNotReady);
    assert.equal(reasonOf(error), 'ProviderNamespaceNotAllowed');
    assert.match(error.message, /AWSProvider team-a\/shared/);
    assert.match(error.message, /namespace "team-b"/);
    assert.match(error.message, /add "team-b" to spec\.allowedNamespaces of AWSProvider team-a\/shared/);
    assert.doesNotMatch(error.message, /private detail/);
  }
});

test('a provider in another namespace is used when allowedNamespaces lists the namespace, or is ["*"]', async () => {
  for (const allowedNamespaces of [['team-b'], ['team-c', 'team-b'], ['*']]) {
    const clients = fakeClients(
      { 'awsproviders/team-a/shared': provider('shared', { spec: { allowedNamespaces } }) },
      ['team-a/aws'],
    );
    const context = await awsContextFor(clients, settings, bucketRequest('team-b', 'team-a'), heartbeat);
    assert.equal(context.region, 'eu-west-1', JSON.stringify(allowedNamespaces));
  }
});

test('a missing provider is waited for', async () => {
  const error = await failure(awsContextFor(fakeClients({}, []), settings, bucketRequest('team-a'), heartbeat));
  assert.equal(error.type, FailureType.ProviderNotReady);
  assert.equal(reasonOf(error), 'ProviderNotFound');
});

test('a provider not Ready for its current generation is waited for', async () => {
  for (const options of [
    { ready: false, readyMessage: 'InvalidClientTokenId' },
    { generation: 2, observedGeneration: 1 },
  ]) {
    const clients = fakeClients({ 'awsproviders/team-a/shared': provider('shared', options) }, ['team-a/aws']);
    const error = await failure(awsContextFor(clients, settings, bucketRequest('team-a'), heartbeat));
    assert.equal(error.type, FailureType.ProviderNotReady);
    assert.equal(reasonOf(error), 'ProviderNotReady');
    assert.match(error.message, /AWSProvider team-a\/shared is not Ready/);
  }
});

test("the worker's settings decide who may use its own AWS identity", async () => {
  const keyless = provider('shared', { spec: { accessKeyIDRef: undefined, secretAccessKeyRef: undefined } });
  const clients = fakeClients({ 'awsproviders/team-a/shared': keyless }, []);
  const error = await failure(awsContextFor(clients, settings, bucketRequest('team-a'), heartbeat));
  assert.equal(error.type, FailureType.Terminal);
  assert.equal(reasonOf(error), 'AmbientCredentialsNotAllowed');
  const permitted = { ...settings, ambientCredentialNamespaces: ['team-a'] };
  assert.equal((await awsContextFor(clients, permitted, bucketRequest('team-a'), heartbeat)).region, 'eu-west-1');

  // An AWSProvider uses itself: the same rule applies to its own observe.
  const self: AwsRequest = {
    ref: { kind: 'AWSProvider', namespace: 'team-b', name: 'p' },
    uid: 'uid-2',
    spec: { region: 'us-east-1' },
  };
  assert.equal(reasonOf(await failure(awsContextFor(clients, permitted, self, heartbeat))), 'AmbientCredentialsNotAllowed');
  assert.equal((await awsContextFor(clients, { ...settings, ambientCredentialNamespaces: '*' }, self, heartbeat)).region, 'us-east-1');
});

test('a provider being deleted serves its users while they are deleted, and nothing else', async () => {
  const clients = fakeClients({ 'awsproviders/team-a/shared': provider('shared', { deleting: true, ready: false }) }, ['team-a/aws']);
  const live = await failure(awsContextFor(clients, settings, bucketRequest('team-a'), heartbeat));
  assert.equal(live.type, FailureType.ProviderNotReady);
  assert.equal(reasonOf(live), 'ProviderDeleting');
  const deleting = await awsContextFor(clients, settings, { ...bucketRequest('team-a'), deleting: true }, heartbeat);
  assert.equal(deleting.region, 'eu-west-1', 'its Ready status is gone, but the deletion goes through it');
});

test('observe-only requests carry no owner tags, so they never count as drift of their own', async () => {
  const clients = fakeClients({ 'awsproviders/team-a/shared': provider('shared') }, ['team-a/aws']);
  const context = await awsContextFor(clients, settings, { ...bucketRequest('team-a'), observeOnly: true }, heartbeat);
  assert.equal(context.tags[CLUSTER_TAG], undefined);
  assert.deepEqual(Object.keys(context.tags), []);
});

test('a reference is read once per pass, and again by the next pass', async () => {
  const reads: string[] = [];
  const objects: Record<string, object> = {
    'awsproviders/team-a/shared': provider('shared'),
    'vpcs/team-a/net': { metadata: { name: 'net', namespace: 'team-a' }, spec: {}, status: { ready: true, vpcID: 'vpc-1' } },
  };
  const clients = fakeClients(objects, ['team-a/aws']);
  const get = clients.custom.getNamespacedCustomObject.bind(clients.custom);
  clients.custom.getNamespacedCustomObject = (async (request: Parameters<typeof get>[0]) => {
    reads.push(request.plural);
    return get(request);
  });
  const contexts = new PassContexts(clients, settings);
  const request = (pass: string): AwsRequest => ({
    ref: { kind: 'Subnet', namespace: 'team-a', name: 'a' },
    uid: 'uid-subnet',
    spec: { providerRef: { name: 'shared' }, vpcRef: { name: 'net' } },
    pass,
  });
  for (const pass of ['run.0', 'run.0', 'run.1']) {
    const context = await contexts.contextFor(request(pass), heartbeat);
    assert.equal(await context.resolve({ kind: 'VPC', name: 'net' }, 'vpcID'), 'vpc-1');
    assert.equal(await context.resolve({ kind: 'VPC', name: 'net' }, 'vpcID'), 'vpc-1');
  }
  assert.deepEqual(reads, ['awsproviders', 'vpcs', 'awsproviders', 'vpcs']);
});
