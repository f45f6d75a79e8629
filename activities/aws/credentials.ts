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
import { createHash } from 'node:crypto';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { ApplicationFailure } from '@temporalio/common';
import type { AWSProviderSpec } from '../../crds/kinds/aws-provider.js';
import { FailureType, type FailureDetails } from '../../contract/failures.js';
import { httpStatus, type KubeClients } from '../../kube/client.js';
import { LruCache, sharedIdentity } from './cache.js';

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

/** What one read of a Secret gave: its data, and a version that changes whenever the data does. */
interface SecretRead {
  data: Record<string, string>;
  version: string;
}

/** Reads Secret data; a missing Secret or key is a wait, not a crash: the user may create it next. */
async function readSecret(clients: KubeClients, namespace: string, name: string): Promise<SecretRead> {
  try {
    const secret = await clients.core.readNamespacedSecret({ name, namespace });
    const data: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64').toString('utf8');
    for (const [key, value] of Object.entries(secret.stringData ?? {})) data[key] = value;
    // The API always sets resourceVersion; a digest of the data stands in
    // for it otherwise (a one-way hash: the cache key never holds a value).
    const version =
      secret.metadata?.resourceVersion ??
      `sha256:${createHash('sha256').update(JSON.stringify(Object.entries(data).sort())).digest('hex')}`;
    return { data, version };
  } catch (error) {
    if (httpStatus(error) === 404) {
      throw secretNotReady('SecretNotFound', `Secret ${namespace}/${name} not found`);
    }
    throw error;
  }
}

/** The Secrets of one credential resolution, each read once, with the version of each. */
class SecretReader {
  /** Secret name to resourceVersion, for the cache key. */
  readonly versions = new Map<string, string>();
  private readonly reads = new Map<string, Promise<Record<string, string>>>();

  constructor(
    private readonly clients: KubeClients,
    readonly namespace: string,
  ) {}

  data(name: string): Promise<Record<string, string>> {
    let read = this.reads.get(name);
    if (!read) {
      read = readSecret(this.clients, this.namespace, name).then(({ data, version }) => {
        this.versions.set(name, version);
        return data;
      });
      this.reads.set(name, read);
    }
    return read;
  }

  /** One key of a Secret in the provider's namespace (checkSecretNamespaces has refused any other). */
  async key(ref: SecretKey): Promise<string> {
    const value = (await this.data(ref.name))[ref.key];
    if (!value) throw secretNotReady('SecretKeyNotFound', `Secret ${this.namespace}/${ref.name} has no key ${ref.key}`);
    return value;
  }
}

/** Static credentials from the provider's Secret references, or undefined when it has none. */
async function staticCredentials(secrets: SecretReader, spec: AWSProviderSpec): Promise<AwsCredentialIdentity | undefined> {
  const namespace = secrets.namespace;
  if (spec.accessKeyIDRef && spec.secretAccessKeyRef) {
    return {
      accessKeyId: await secrets.key(spec.accessKeyIDRef),
      secretAccessKey: await secrets.key(spec.secretAccessKeyRef),
      ...(spec.sessionTokenRef ? { sessionToken: await secrets.key(spec.sessionTokenRef) } : {}),
    };
  }
  if (spec.credentialsSecret) {
    const data = await secrets.data(spec.credentialsSecret.name);
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

/** Which AWSProvider object a resolution is for: what makes its cache entry. */
export interface ProviderIdentity {
  name: string;
  uid: string;
  /** metadata.generation; unknown for an AWSProvider's own requests, whose spec is in the key anyway. */
  generation?: number;
}

/** How many resolved credential providers the process keeps. */
export const CREDENTIAL_CACHE_SIZE = 256;

/**
 * Resolved credential providers by provider identity. An entry is only
 * ever handed to SDK clients: never logged, never returned from an activity.
 */
const credentialCache = new LruCache<string, AwsCredentialIdentityProvider>(CREDENTIAL_CACHE_SIZE);

/** Empties the cache (tests). */
export function clearCredentialCache(): void {
  credentialCache.clear();
}

/**
 * The cache key: the provider object (namespace/name, uid, generation), its
 * spec (which names the Secrets and the role; it holds no secret values),
 * and the resourceVersion of every Secret read. An edited provider, a
 * provider deleted and made again, or a rotated Secret each get a new entry;
 * the old one ages out of the LRU.
 */
function cacheKey(namespace: string, identity: ProviderIdentity, spec: AWSProviderSpec, versions: Map<string, string>): string {
  const specDigest = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
  return JSON.stringify([namespace, identity.name, identity.uid, identity.generation ?? null, specDigest, [...versions].sort()]);
}

/**
 * Credentials for the provider `spec` in `namespace`: static keys from
 * Secrets of that namespace, or else the operator's own identity (the default
 * chain: environment, the pod's web identity token) when `settings` permit
 * the namespace; then, with roleARN, STS AssumeRole on top of either.
 *
 * Given the provider's `identity`, the result is cached (see cacheKey), so
 * the activities of one provider share one credential provider and, with
 * roleARN, one AssumeRole until its credentials near expiry. Without it,
 * every call makes a new one.
 */
export async function providerCredentials(
  clients: KubeClients,
  settings: CredentialSettings,
  namespace: string,
  spec: AWSProviderSpec,
  identity?: ProviderIdentity,
): Promise<AwsCredentialIdentityProvider> {
  checkSecretNamespaces(namespace, spec);
  // The Secrets are read on every call (one GET each, on a kept-alive
  // connection): a rotated Secret then takes effect at once, through its
  // new resourceVersion in the cache key, with no staleness window.
  const secrets = new SecretReader(clients, namespace);
  const keys = await staticCredentials(secrets, spec);
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
  if (!identity) return credentialsFrom(keys, spec);
  const key = cacheKey(namespace, identity, spec, secrets.versions);
  const cached = credentialCache.get(key);
  if (cached) return cached;
  const made = credentialsFrom(keys, spec);
  credentialCache.set(key, made);
  return made;
}

/**
 * The provider function for keys (or the default chain) and, with roleARN,
 * AssumeRole on top. The assumed role's credentials are shared by every
 * caller of this function until near their expiry (sharedIdentity): every
 * activity builds its own SDK clients, whose own memoization would otherwise
 * make one AssumeRole per client.
 */
function credentialsFrom(keys: AwsCredentialIdentity | undefined, spec: AWSProviderSpec): AwsCredentialIdentityProvider {
  const base: AwsCredentialIdentityProvider = keys ? () => Promise.resolve(keys) : fromNodeProviderChain();
  if (!spec.roleARN) return base;
  return sharedIdentity(
    fromTemporaryCredentials({
      masterCredentials: base,
      params: {
        RoleArn: spec.roleARN,
        RoleSessionName: 'infra-operator',
        ...(spec.externalID ? { ExternalId: spec.externalID } : {}),
      },
      clientConfig: { region: spec.region, ...(spec.endpoint ? { endpoint: spec.endpoint } : {}) },
    }),
  );
}
