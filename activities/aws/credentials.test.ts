import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplicationFailure } from '@temporalio/common';
import type { AWSProviderSpec } from '../../crds/kinds/aws-provider.js';
import { loadConfig, parseAmbientCredentialNamespaces } from '../../process/config.js';
import { FailureType } from '../../contract/failures.js';
import { failure, reasonOf } from './testing.js';
import type { KubeClients, CoreV1Api } from '../../kube/client.js';
import { providerCredentials, type CredentialSettings } from './credentials.js';
import { fakeSts } from '../../test/support/fake-sts.js';

const ACCESS_KEY = 'AKIASECRETFROMSECRET';
const SECRET_KEY = 'secret-value-that-must-never-be-shown';

/** Secrets keyed `namespace/name`; records every read. Only `core.readNamespacedSecret` exists. */
function fakeClients(secrets: Record<string, Record<string, string>>): { clients: KubeClients; reads: string[] } {
  const reads: string[] = [];
  const core: Pick<CoreV1Api, 'readNamespacedSecret'> = {
    readNamespacedSecret: async ({ name, namespace }) => {
      reads.push(`${namespace}/${name}`);
      const data = secrets[`${namespace}/${name}`];
      if (!data) throw Object.assign(new Error(`secrets "${name}" not found`), { code: 404 });
      return { data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
    },
  };
  return { clients: { core } as unknown as KubeClients, reads };
}

/** The keys Secret in `namespace`, under both spellings. */
function keysSecret(namespace: string): Record<string, Record<string, string>> {
  return {
    [`${namespace}/aws`]: { 'access-key-id': ACCESS_KEY, 'secret-access-key': SECRET_KEY, token: 'session-token-value' },
  };
}

const nobody: CredentialSettings = { ambientCredentialNamespaces: [] };
const keyRefs = {
  accessKeyIDRef: { name: 'aws', key: 'access-key-id' },
  secretAccessKeyRef: { name: 'aws', key: 'secret-access-key' },
};

function assertTerminal(error: ApplicationFailure, reason: string): void {
  assert.equal(error.type, FailureType.Terminal);
  assert.equal(error.nonRetryable, true);
  assert.equal(reasonOf(error), reason);
  assert.ok(!error.message.includes(SECRET_KEY) && !error.message.includes(ACCESS_KEY), 'a Secret value in a message');
}

/** Runs `body` with these environment variables set (undefined: unset), then restores them. */
async function withEnv(vars: Record<string, string | undefined>, body: () => Promise<void> | void): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    await body();
  } finally {
    apply(saved);
  }
}

test('keys come from Secrets in the provider namespace', async () => {
  const { clients, reads } = fakeClients(keysSecret('team-a'));
  const spec: AWSProviderSpec = { region: 'us-east-1', ...keyRefs, sessionTokenRef: { name: 'aws', key: 'token' } };
  const credentials = await providerCredentials(clients, nobody, 'team-a', spec);
  assert.deepEqual(await credentials(), { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, sessionToken: 'session-token-value' });
  assert.ok(reads.every((read) => read === 'team-a/aws'));
});

test('a namespace field naming the provider namespace is accepted, in every Secret field', async () => {
  const { clients } = fakeClients(keysSecret('team-a'));
  const own = { namespace: 'team-a' };
  const refs: AWSProviderSpec = {
    region: 'us-east-1',
    accessKeyIDRef: { ...keyRefs.accessKeyIDRef, ...own },
    secretAccessKeyRef: { ...keyRefs.secretAccessKeyRef, ...own },
    sessionTokenRef: { name: 'aws', key: 'token', ...own },
  };
  const credentials = await providerCredentials(clients, nobody, 'team-a', refs);
  assert.equal((await credentials()).accessKeyId, ACCESS_KEY);
  const legacy: AWSProviderSpec = { region: 'us-east-1', credentialsSecret: { name: 'aws', ...own } };
  assert.equal((await (await providerCredentials(clients, nobody, 'team-a', legacy))()).secretAccessKey, SECRET_KEY);
});

const crossNamespace: Array<{ field: string; spec: AWSProviderSpec }> = [
  { field: 'accessKeyIDRef', spec: { region: 'us-east-1', ...keyRefs, accessKeyIDRef: { ...keyRefs.accessKeyIDRef, namespace: 'team-b' } } },
  {
    field: 'secretAccessKeyRef',
    spec: { region: 'us-east-1', ...keyRefs, secretAccessKeyRef: { ...keyRefs.secretAccessKeyRef, namespace: 'team-b' } },
  },
  { field: 'sessionTokenRef', spec: { region: 'us-east-1', ...keyRefs, sessionTokenRef: { name: 'aws', key: 'token', namespace: 'team-b' } } },
  { field: 'credentialsSecret', spec: { region: 'us-east-1', credentialsSecret: { name: 'aws', namespace: 'team-b' } } },
];

for (const { field, spec } of crossNamespace) {
  test(`a Secret in another namespace is refused (${field}), before anything is read`, async () => {
    // The Secret exists in both namespaces: only the rule can refuse it.
    const { clients, reads } = fakeClients({ ...keysSecret('team-a'), ...keysSecret('team-b') });
    const error = await failure(providerCredentials(clients, { ambientCredentialNamespaces: '*' }, 'team-a', spec));
    assertTerminal(error, 'SecretNamespaceNotAllowed');
    assert.match(error.message, new RegExp(`spec\\.${field}\\.namespace is "team-b"`));
    assert.match(error.message, /must live in the AWSProvider's own namespace "team-a"/);
    assert.deepEqual(reads, []);
  });
}

test("the operator's own identity is refused to a namespace it does not permit, with or without roleARN", async () => {
  const { clients } = fakeClients({});
  for (const spec of [
    { region: 'us-east-1' },
    { region: 'us-east-1', roleARN: 'arn:aws:iam::123456789012:role/r' },
  ] satisfies AWSProviderSpec[]) {
    for (const settings of [nobody, { ambientCredentialNamespaces: ['infra-operator-system'] }]) {
      const error = await failure(providerCredentials(clients, settings, 'team-b', spec));
      assertTerminal(error, 'AmbientCredentialsNotAllowed');
      assert.match(error.message, /namespace "team-b"/);
      assert.match(error.message, /keys in a Secret/);
      assert.match(error.message, /AMBIENT_CREDENTIAL_NAMESPACES/);
    }
  }
});

test("the operator's own identity serves a permitted namespace, and every namespace with *", async () => {
  const { clients } = fakeClients({});
  await withEnv(
    { AWS_ACCESS_KEY_ID: 'AKIAAMBIENTIDENTITY1', AWS_SECRET_ACCESS_KEY: 'ambient-secret', AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined },
    async () => {
      for (const settings of [{ ambientCredentialNamespaces: ['ops', 'team-b'] }, { ambientCredentialNamespaces: '*' as const }]) {
        const credentials = await providerCredentials(clients, settings, 'team-b', { region: 'us-east-1' });
        assert.equal((await credentials()).accessKeyId, 'AKIAAMBIENTIDENTITY1');
      }
    },
  );
});

test('keys from a Secret need no permission for the ambient identity', async () => {
  const { clients } = fakeClients(keysSecret('team-b'));
  const credentials = await providerCredentials(clients, nobody, 'team-b', { region: 'us-east-1', ...keyRefs });
  assert.equal((await credentials()).accessKeyId, ACCESS_KEY);
});

test('roleARN assumes the role on the Secret keys, passing externalID as ExternalId', async () => {
  const sts = await fakeSts();
  try {
    const { clients } = fakeClients(keysSecret('team-a'));
    const roleARN = 'arn:aws:iam::123456789012:role/r';
    const spec: AWSProviderSpec = { region: 'us-east-1', endpoint: sts.url, roleARN, externalID: 'ext-123', ...keyRefs };
    const credentials = await providerCredentials(clients, nobody, 'team-a', spec);
    assert.equal((await credentials()).accessKeyId, 'ASIAASSUMED000000001');
    assert.equal(sts.requests.length, 1);
    const [{ params, authorization }] = sts.requests as [{ params: URLSearchParams; authorization: string }];
    assert.equal(params.get('Action'), 'AssumeRole');
    assert.equal(params.get('RoleArn'), roleARN);
    assert.equal(params.get('RoleSessionName'), 'infra-operator');
    assert.equal(params.get('ExternalId'), 'ext-123');
    assert.match(authorization, new RegExp(`Credential=${ACCESS_KEY}/`));

    const withoutID = await providerCredentials(clients, nobody, 'team-a', { ...spec, externalID: undefined });
    await withoutID();
    assert.equal(sts.requests[1]?.params.has('ExternalId'), false);
  } finally {
    await sts.close();
  }
});

test('AMBIENT_CREDENTIAL_NAMESPACES parsing', () => {
  const cases: Array<{ reason: string; raw: string | undefined; pod: string | undefined; expected: string[] | '*' }> = [
    { reason: "unset: the operator's own namespace", raw: undefined, pod: 'infra-operator-system', expected: ['infra-operator-system'] },
    { reason: 'unset, own namespace unknown: none', raw: undefined, pod: undefined, expected: [] },
    { reason: 'unset, empty POD_NAMESPACE: none', raw: undefined, pod: '', expected: [] },
    { reason: '* is every namespace', raw: '*', pod: 'ops', expected: '*' },
    { reason: '* with spaces', raw: ' * ', pod: undefined, expected: '*' },
    { reason: 'a list replaces the default', raw: 'team-a, team-b,,', pod: 'ops', expected: ['team-a', 'team-b'] },
    { reason: 'duplicates once', raw: 'a,a', pod: undefined, expected: ['a'] },
    { reason: 'empty is explicitly none', raw: '', pod: 'ops', expected: [] },
  ];
  for (const { reason, raw, pod, expected } of cases) {
    assert.deepEqual(parseAmbientCredentialNamespaces(raw, pod), expected, reason);
  }
  assert.throws(() => parseAmbientCredentialNamespaces('team-a,*', undefined), /"\*"/);
  assert.throws(() => parseAmbientCredentialNamespaces('Team_A', undefined), /"Team_A"/);
});

test('loadConfig reads AMBIENT_CREDENTIAL_NAMESPACES, POD_NAMESPACE and CLUSTER_ID', async () => {
  await withEnv({ AMBIENT_CREDENTIAL_NAMESPACES: undefined, POD_NAMESPACE: 'ops', CLUSTER_ID: undefined }, () => {
    const config = loadConfig();
    assert.deepEqual(config.ambientCredentialNamespaces, ['ops']);
    assert.equal(config.clusterID, undefined);
  });
  await withEnv({ AMBIENT_CREDENTIAL_NAMESPACES: 'a,b', POD_NAMESPACE: 'ops', CLUSTER_ID: 'prod-1' }, () => {
    const config = loadConfig();
    assert.deepEqual(config.ambientCredentialNamespaces, ['a', 'b']);
    assert.equal(config.clusterID, 'prod-1');
  });
});
