/**
 * Builds the AwsContext of one request: finds the resource's AWSProvider,
 * insists it is Ready, resolves its credentials and computes the tags.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { AWSProviderSpec, AWSProviderStatus } from '../../crds/kinds/aws-provider.js';
import { providerReference } from '../../crds/kind.js';
import type { AwsRequest } from '../../contract/activities.js';
import { FailureType, type FailureDetails } from '../../contract/failures.js';
import { CLUSTER_TAG, OWNER_TAG, ownerTagValue, type ObjectRef } from '../../contract/identity.js';
import { readCustomResource, type CustomResource, type KubeClients } from '../../kube/client.js';
import { readInlineSecret, readSecretKey } from '../kube/secrets.js';
import { LruCache } from './cache.js';
import { countAwsCalls } from './call-metrics.js';
import { providerCredentials, type ProviderIdentity } from './credentials.js';
import { mergeTags, type AwsClientConfig, type AwsContext } from './handler.js';

/** What the worker process knows about where it runs; the same for every activity. */
export interface AwsSettings {
  /** This cluster's identity, carried by every AWS resource it creates (CLUSTER_TAG). */
  clusterID: string;
  /**
   * Namespaces whose AWSProviders may use the operator's own AWS identity
   * (environment, pod identity), directly or as the base for roleARN: a
   * list, or '*' for all.
   */
  ambientCredentialNamespaces: string[] | '*';
}

/**
 * Retries and timeouts of every AWS call. Three attempts, as AWS's own
 * standard mode makes; a black-holed endpoint then fails within about
 * 3 × (5 s to connect or 8 s for an answer), inside the activity's 30 s.
 */
export const AWS_CALL_RETRIES = {
  maxAttempts: 3,
  retryMode: 'standard',
  requestHandler: { connectionTimeout: 5_000, requestTimeout: 8_000, throwOnRequestTimeout: true },
} as const satisfies Pick<AwsClientConfig, 'maxAttempts' | 'retryMode' | 'requestHandler'>;

export interface Provider {
  namespace: string;
  spec: AWSProviderSpec;
  accountID?: string;
  /** Which provider object this is, for the credential cache; unset when the object carries no uid. */
  identity?: ProviderIdentity;
}

function notReady(reason: string, message: string): ApplicationFailure {
  const details: FailureDetails = { reason };
  return ApplicationFailure.create({ type: FailureType.ProviderNotReady, message, nonRetryable: true, details: [details] });
}

/**
 * Whether resources in `namespace` may use a provider with this spec that
 * lives in `providerNamespace`: its own namespace always, another only when
 * listed in spec.allowedNamespaces (or that list is ["*"]).
 */
function namespaceMayUse(spec: AWSProviderSpec, providerNamespace: string, namespace: string): boolean {
  if (namespace === providerNamespace) return true;
  const allowed = spec.allowedNamespaces ?? [];
  return allowed.includes('*') || allowed.includes(namespace);
}

/** The AWSProvider a request uses; an AWSProvider uses itself. */
async function providerFor(clients: KubeClients, request: AwsRequest): Promise<Provider> {
  if (request.ref.kind === 'AWSProvider') {
    return {
      namespace: request.ref.namespace,
      spec: request.spec as unknown as AWSProviderSpec,
      identity: { name: request.ref.name, uid: request.uid },
    };
  }
  const ref = providerReference(request.spec as { providerRef: { name: string; namespace?: string } }, request.ref.namespace);
  const provider = await readCustomResource<AWSProviderSpec, AWSProviderStatus>(clients, ref);
  const name = `AWSProvider ${ref.namespace}/${ref.name}`;
  if (!provider) {
    const fix = request.deleting
      ? ': it is needed to delete the AWS resource; create it again, or set deletionPolicy Orphan to let this go and keep the AWS resource'
      : '';
    throw notReady('ProviderNotFound', `${name} does not exist${fix}`);
  }
  // Before readiness, so a namespace that may not use the provider learns
  // nothing of its state. A wait, not a terminal error: the provider's owner
  // fixes it by editing the provider, and the watcher then wakes this
  // resource (dependencyChanged).
  if (!namespaceMayUse(provider.spec, ref.namespace, request.ref.namespace)) {
    throw notReady(
      'ProviderNamespaceNotAllowed',
      `${name} may not be used from namespace "${request.ref.namespace}": ` +
        `add "${request.ref.namespace}" to spec.allowedNamespaces of ${name}`,
    );
  }
  const status = provider.status;
  const uid = provider.metadata?.uid;
  const identity: ProviderIdentity | undefined = uid
    ? { name: ref.name, uid, ...(provider.metadata?.generation !== undefined ? { generation: provider.metadata.generation } : {}) }
    : undefined;
  const found = { namespace: ref.namespace, spec: provider.spec, ...(identity ? { identity } : {}) };
  if (provider.metadata?.deletionTimestamp) {
    // A provider being deleted waits for its users (deletionWaitsForUsers),
    // so that they can still delete their own AWS resources through it; it
    // serves nothing else any more.
    if (request.deleting) return { ...found, ...(status?.accountID ? { accountID: status.accountID } : {}) };
    throw notReady('ProviderDeleting', `${name} is being deleted; it stays until the resources using it, this one included, are deleted`);
  }
  if (!status?.ready || status.observedGeneration !== provider.metadata?.generation) {
    const why = status?.conditions?.find((c) => c.type === 'Ready')?.message;
    throw notReady('ProviderNotReady', `${name} is not Ready${why ? `: ${why}` : ''}`);
  }
  return { ...found, ...(status.accountID ? { accountID: status.accountID } : {}) };
}

function dependencyNotReady(message: string): ApplicationFailure {
  const details: FailureDetails = { reason: 'DependencyNotReady' };
  return ApplicationFailure.create({ type: FailureType.DependencyNotReady, message, nonRetryable: true, details: [details] });
}

/** Reads a referenced custom resource; null when it does not exist. */
export type ReferenceReader = (ref: ObjectRef) => Promise<CustomResource<unknown, Record<string, unknown>> | null>;

/** Reads `status[statusField]` of a referenced custom resource that is Ready. */
async function resolveReference(read: ReferenceReader, ref: ObjectRef, statusField: string): Promise<string> {
  const target = await read(ref);
  const name = `${ref.kind} ${ref.namespace}/${ref.name}`;
  if (!target) throw dependencyNotReady(`waiting for ${name}: it does not exist`);
  const status = target.status ?? {};
  const value = status[statusField];
  if (status.ready !== true || typeof value !== 'string' || value === '') {
    const conditions = status.conditions as Array<{ type: string; message?: string }> | undefined;
    const why = conditions?.find((c) => c.type === 'Ready')?.message;
    throw dependencyNotReady(`waiting for ${name} to be Ready${why ? `: ${why}` : ''}`);
  }
  return value;
}

/**
 * What a context takes from the resource's provider: the provider, checked
 * as usable from the request's namespace, and the client configuration. The
 * drift sweep builds one per provider and namespace for a whole pass.
 */
export interface ProviderSession {
  provider: Provider;
  config: AwsClientConfig;
}

/** The provider `request` uses (see providerFor), with its credentials resolved. */
export async function providerSession(clients: KubeClients, settings: AwsSettings, request: AwsRequest): Promise<ProviderSession> {
  const provider = await providerFor(clients, request);
  // Cached per provider object and Secret version (credentials.ts): the
  // activities of one provider share one AssumeRole.
  const credentials = await providerCredentials(clients, settings, provider.namespace, provider.spec, provider.identity);
  const config: AwsClientConfig = {
    region: provider.spec.region,
    credentials,
    ...AWS_CALL_RETRIES,
    ...(provider.spec.endpoint ? { endpoint: provider.spec.endpoint, forcePathStyle: true } : {}),
  };
  return { provider, config };
}

/** What contexts of one sweep pass share instead of making their own. */
export interface SharedLookups {
  /** Reads each referenced object once per pass. */
  read?: ReferenceReader;
  /** One SDK client per class for the whole session. */
  client?: <C>(clientClass: new (config: AwsClientConfig) => C) => C;
}

/** Context for one activity call; `heartbeat` comes from the activity runtime. */
export async function awsContextFor(
  clients: KubeClients,
  settings: AwsSettings,
  request: AwsRequest,
  heartbeat: () => void,
): Promise<AwsContext> {
  return contextIn(clients, settings, await providerSession(clients, settings, request), request, heartbeat);
}

/** What the activities of one pass read once between them. */
interface PassReads {
  session: Promise<ProviderSession>;
  references: Map<string, ReturnType<ReferenceReader>>;
  startedAt: number;
}

/**
 * Passes remembered at once: each is a few objects, and a pass lasts as long
 * as its activities run back to back, so the passes in flight in one worker
 * (its activity slots) fit many times over.
 */
const PASSES_KEPT = 512;
/**
 * A pass whose first read is older than this reads again: its activities
 * run back to back, so one that comes this late is a retry after a wait,
 * which should see what changed meanwhile.
 */
const PASS_READS_MAX_AGE_MS = 30_000;

/**
 * The provider (with its Secret and credentials) and the referenced objects,
 * read once per reconcile pass (AwsRequest.pass) instead of once per
 * activity: observe and the create or update after it share one provider
 * read, one Secret read and one read of each reference. A new pass reads
 * again, so a changed provider is seen by the next pass, as before; a failed
 * activity forgets its pass, so its retry reads afresh.
 */
export class PassContexts {
  private readonly passes = new LruCache<string, PassReads>(PASSES_KEPT);

  constructor(
    private readonly clients: KubeClients,
    private readonly settings: AwsSettings,
    private readonly now: () => number = Date.now,
  ) {}

  private key(request: AwsRequest): string | undefined {
    return request.pass && `${request.pass}/${request.uid}`;
  }

  async contextFor(request: AwsRequest, heartbeat: () => void): Promise<AwsContext> {
    const key = this.key(request);
    if (!key) return awsContextFor(this.clients, this.settings, request, heartbeat);
    let reads = this.passes.get(key);
    if (!reads || this.now() - reads.startedAt > PASS_READS_MAX_AGE_MS) {
      reads = { session: providerSession(this.clients, this.settings, request), references: new Map(), startedAt: this.now() };
      this.passes.set(key, reads);
    }
    const { references } = reads;
    const read: ReferenceReader = (ref) => {
      const id = `${ref.kind}/${ref.namespace}/${ref.name}`;
      let answer = references.get(id);
      if (!answer) {
        answer = readCustomResource(this.clients, ref);
        references.set(id, answer);
      }
      return answer;
    };
    try {
      return contextIn(this.clients, this.settings, await reads.session, request, heartbeat, { read });
    } catch (error) {
      this.forget(request);
      throw error;
    }
  }

  /** After a failure: whatever the pass read may be what failed it. */
  forget(request: AwsRequest): void {
    const key = this.key(request);
    if (key) this.passes.delete(key);
  }
}

/** The context of `request` within a provider session already made. */
export function contextIn(
  clients: KubeClients,
  settings: AwsSettings,
  session: ProviderSession,
  request: AwsRequest,
  heartbeat: () => void,
  shared: SharedLookups = {},
): AwsContext {
  const { provider, config } = session;
  const read: ReferenceReader = shared.read ?? ((ref) => readCustomResource(clients, ref));
  const specTags = request.spec.tags as Record<string, string> | undefined;
  return {
    resource: { ...request.ref, uid: request.uid },
    region: provider.spec.region,
    ...(provider.spec.endpoint ? { endpoint: provider.spec.endpoint } : {}),
    ...(provider.accountID ? { accountID: provider.accountID } : {}),
    // Observe-only never writes tags, so ours are not wanted on it either:
    // its drift is measured against the spec alone.
    tags: mergeTags(
      provider.spec.defaultTags,
      specTags,
      request.observeOnly ? {} : { [OWNER_TAG]: ownerTagValue(request.ref), [CLUSTER_TAG]: settings.clusterID },
    ),
    ...(request.awsID ? { awsID: request.awsID } : {}),
    // Counted (call-metrics.ts); counting a shared client again replaces its counter, by name.
    client: (clientClass) => countAwsCalls(shared.client ? shared.client(clientClass) : new clientClass(config)),
    heartbeat,
    deleting: request.deleting === true,
    resolve: (ref, statusField) =>
      resolveReference(read, { ...ref, namespace: ref.namespace ?? request.ref.namespace }, statusField),
    secret: (ref) => readSecretKey(clients, request.ref.namespace, ref),
    inlineSecret: (field) => readInlineSecret(clients, request.ref, request.uid, field),
  };
}
