/**
 * Turns an AWSProvider into SDK credentials. Secret values are read here,
 * inside the activity, and live only in the returned provider function:
 * they never reach an activity result, a log line, an Event or a status.
 */
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ApplicationFailure } from '@temporalio/common';
import type { AWSProviderSpec } from '../../crds/kinds/aws-provider.js';
import { FailureType, type FailureDetails } from '../../shared/failures.js';
import { httpStatus, type KubeClients } from '../kube/client.js';

interface SecretKey {
  name: string;
  key: string;
  namespace?: string;
}

/** The watcher does not watch Secrets, so a fix to one is found by the workflow's own timer. */
function secretNotReady(reason: string, message: string): ApplicationFailure {
  const details: FailureDetails = { reason, unwatched: true };
  return ApplicationFailure.create({ type: FailureType.ProviderNotReady, message, nonRetryable: true, details: [details] });
}

/** Reads Secret data; a missing Secret or key is a wait, not a crash: the user may create it next. */
async function readSecret(clients: KubeClients, namespace: string, name: string): Promise<Record<string, string>> {
  try {
    const secret = await clients.core.readNamespacedSecret({ name, namespace });
    const data: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8');
    for (const [key, value] of Object.entries(secret.stringData ?? {})) data[key] = value;
    return data;
  } catch (error) {
    if (httpStatus(error) === 404) {
      throw secretNotReady('SecretNotFound', `Secret ${namespace}/${name} not found`);
    }
    throw error;
  }
}

async function readSecretKey(clients: KubeClients, namespace: string, ref: SecretKey): Promise<string> {
  const secretNamespace = ref.namespace ?? namespace;
  const data = await readSecret(clients, secretNamespace, ref.name);
  const value = data[ref.key];
  if (!value) throw secretNotReady('SecretKeyNotFound', `Secret ${secretNamespace}/${ref.name} has no key ${ref.key}`);
  return value;
}

/** Static credentials from the provider's Secret references, or undefined when it has none. */
async function staticCredentials(
  clients: KubeClients,
  namespace: string,
  spec: AWSProviderSpec,
): Promise<AwsCredentialIdentity | undefined> {
  if (spec.accessKeyIDRef && spec.secretAccessKeyRef) {
    return {
      accessKeyId: await readSecretKey(clients, namespace, spec.accessKeyIDRef),
      secretAccessKey: await readSecretKey(clients, namespace, spec.secretAccessKeyRef),
      ...(spec.sessionTokenRef ? { sessionToken: await readSecretKey(clients, namespace, spec.sessionTokenRef) } : {}),
    };
  }
  if (spec.credentialsSecret) {
    const secretNamespace = spec.credentialsSecret.namespace ?? namespace;
    const data = await readSecret(clients, secretNamespace, spec.credentialsSecret.name);
    const accessKeyId = data['access-key-id'] ?? data.AWS_ACCESS_KEY_ID;
    const secretAccessKey = data['secret-access-key'] ?? data.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw secretNotReady(
        'SecretKeyNotFound',
        `Secret ${secretNamespace}/${spec.credentialsSecret.name} needs access-key-id and secret-access-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
      );
    }
    const sessionToken = data['session-token'] ?? data.AWS_SESSION_TOKEN;
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  return undefined;
}

/**
 * Credentials for a provider: static keys from Secrets, or the default chain
 * (environment, the pod's web identity token); then, with roleARN, STS
 * AssumeRole on top of either.
 */
export async function providerCredentials(
  clients: KubeClients,
  namespace: string,
  spec: AWSProviderSpec,
): Promise<AwsCredentialIdentityProvider> {
  const keys = await staticCredentials(clients, namespace, spec);
  const base: AwsCredentialIdentityProvider = keys ? () => Promise.resolve(keys) : fromNodeProviderChain();
  if (!spec.roleARN) return base;
  return fromTemporaryCredentials({
    masterCredentials: base,
    params: {
      RoleArn: spec.roleARN,
      RoleSessionName: 'infra-operator',
      ...(spec.externalID ? { ExternalId: spec.externalID } : {}),
    },
    clientConfig: { region: spec.region, ...(spec.endpoint ? { endpoint: spec.endpoint } : {}) },
  });
}
