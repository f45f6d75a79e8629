/**
 * Turns an AWSProvider into SDK credentials. Secret values are read here,
 * inside the activity, and live only in the returned provider function:
 * they never reach an activity result, a log line, an Event or a status.
 *
 * Credentials stay in their namespace: a provider reads Secrets of its own
 * namespace only, and the operator's own AWS identity (environment, pod
 * identity) serves only providers in namespaces the operator's configuration
 * permits (AMBIENT_CREDENTIAL_NAMESPACES).
 */
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ApplicationFailure } from '@temporalio/common';
import type { AWSProviderSpec } from '../../crds/kinds/aws-provider.js';
import { FailureType, type FailureDetails } from '../../contract/failures.js';
import { httpStatus, type KubeClients } from '../../kube/client.js';

/** What credential resolution needs of the worker's settings (AwsSettings has it). */
export interface CredentialSettings {
  /** Namespaces whose providers may use the operator's own AWS identity: a list, or '*' for all. */
  ambientCredentialNamespaces: string[] | '*';
}

interface SecretKey {
  name: string;
  key: string;
  namespace?: string;
}

/** The spec fields that name a Secret, in the order they are checked. */
const SECRET_FIELDS = ['accessKeyIDRef', 'secretAccessKeyRef', 'sessionTokenRef', 'credentialsSecret'] as const;

function terminal(reason: string, message: string): ApplicationFailure {
  const details: FailureDetails = { reason };
  return ApplicationFailure.create({ type: FailureType.Terminal, message, nonRetryable: true, details: [details] });
}

/** The watcher does not watch Secrets, so a fix to one is found by the workflow's own timer. */
function secretNotReady(reason: string, message: string): ApplicationFailure {
  const details: FailureDetails = { reason, unwatched: true };
  return ApplicationFailure.create({ type: FailureType.ProviderNotReady, message, nonRetryable: true, details: [details] });
}

/**
 * Refuses a Secret reference into another namespace before anything is read:
 * otherwise whoever may write an AWSProvider could borrow the keys of any
 * namespace the operator can read. The field itself is kept for the earlier
 * operator's manifests, which spell out the provider's own namespace.
 */
function checkSecretNamespaces(namespace: string, spec: AWSProviderSpec): void {
  for (const field of SECRET_FIELDS) {
    const given = spec[field]?.namespace;
    if (given === undefined || given === namespace) continue;
    throw terminal(
      'SecretNamespaceNotAllowed',
      `spec.${field}.namespace is "${given}", but the Secret must live in the AWSProvider's own namespace "${namespace}": ` +
        `create the Secret in "${namespace}" and remove spec.${field}.namespace (or set it to "${namespace}")`,
    );
  }
}

/** Whether providers in `namespace` may use the operator's own AWS identity. */
function ambientCredentialsAllowed(settings: CredentialSettings, namespace: string): boolean {
  const allowed = settings.ambientCredentialNamespaces;
  return allowed === '*' || allowed.includes(namespace);
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

/** One key of a Secret in the provider's namespace (checkSecretNamespaces has refused any other). */
async function readSecretKey(clients: KubeClients, namespace: string, ref: SecretKey): Promise<string> {
  const data = await readSecret(clients, namespace, ref.name);
  const value = data[ref.key];
  if (!value) throw secretNotReady('SecretKeyNotFound', `Secret ${namespace}/${ref.name} has no key ${ref.key}`);
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
    const data = await readSecret(clients, namespace, spec.credentialsSecret.name);
    const accessKeyId = data['access-key-id'] ?? data.AWS_ACCESS_KEY_ID;
    const secretAccessKey = data['secret-access-key'] ?? data.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw secretNotReady(
        'SecretKeyNotFound',
        `Secret ${namespace}/${spec.credentialsSecret.name} needs access-key-id and secret-access-key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
      );
    }
    const sessionToken = data['session-token'] ?? data.AWS_SESSION_TOKEN;
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  return undefined;
}

/**
 * Credentials for the provider `spec` in `namespace`: static keys from
 * Secrets of that namespace, or else the operator's own identity (the default
 * chain: environment, the pod's web identity token) when `settings` permit
 * the namespace; then, with roleARN, STS AssumeRole on top of either.
 */
export async function providerCredentials(
  clients: KubeClients,
  settings: CredentialSettings,
  namespace: string,
  spec: AWSProviderSpec,
): Promise<AwsCredentialIdentityProvider> {
  checkSecretNamespaces(namespace, spec);
  const keys = await staticCredentials(clients, namespace, spec);
  // Without keys the operator's own identity would answer: refuse rather
  // than lend it to whoever may write an AWSProvider in this namespace.
  // roleARN does not change that: the operator's identity would still be the
  // one calling AssumeRole.
  if (!keys && !ambientCredentialsAllowed(settings, namespace)) {
    throw terminal(
      'AmbientCredentialsNotAllowed',
      `AWSProviders in namespace "${namespace}" may not use the operator's own AWS identity: ` +
        `give the provider keys in a Secret (accessKeyIDRef and secretAccessKeyRef, or credentialsSecret), ` +
        `or add "${namespace}" to the operator's AMBIENT_CREDENTIAL_NAMESPACES`,
    );
  }
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
