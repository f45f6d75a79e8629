/**
 * Access to the Kubernetes API for activities and the watcher: the few
 * requests the operator makes, over one keep-alive agent per TLS identity
 * for the whole process, typed helpers for our custom resources, and the
 * one rule for "not found".
 *
 * Not @kubernetes/client-node: its generated models and serializers cost
 * each process about 35 MiB of memory and a few milliseconds of CPU per
 * request, for some fifteen calls that are plain JSON over HTTPS.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { API_GROUP, API_VERSION, kindDefinition } from '../crds/index.js';
import type { ObjectRef } from '../contract/identity.js';
import { credentialsFor, defaultKubeConfig, forgetCredentials, type KubeConfig, type RequestCredentials } from './config.js';

export { kubeConfigFromFiles, type KubeConfig } from './config.js';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
  creationTimestamp?: string;
  managedFields?: Array<{ manager?: string; operation?: string; apiVersion?: string; subresource?: string; time?: string; fieldsType?: string; fieldsV1?: object }>;
}

export interface KubernetesObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** A custom resource as the API returns it. */
export interface CustomResource<Spec = Record<string, unknown>, Status = Record<string, unknown>> extends KubernetesObject {
  spec: Spec;
  status?: Status;
}

export interface Secret extends KubernetesObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** An error answer of the API server: `code` is its HTTP status, `body` its Status object when it sent one. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: { message?: string; reason?: string } | undefined,
    what: string,
  ) {
    super(`${what}: HTTP ${code}${body?.reason ? ` ${body.reason}` : ''}${body?.message ? `: ${body.message}` : ''}`);
    this.name = 'KubeApiError';
  }
}

interface CustomPath {
  group: string;
  version: string;
  plural: string;
}
interface NamespacedCustomPath extends CustomPath {
  namespace: string;
}
interface NamedCustomPath extends NamespacedCustomPath {
  name: string;
}
export interface ListOptions {
  limit?: number;
  _continue?: string;
  labelSelector?: string;
  resourceVersion?: string;
}

/** The `application/*-patch+json` kinds the API server takes. */
export const PatchType = {
  JsonPatch: 'application/json-patch+json',
  MergePatch: 'application/merge-patch+json',
} as const;
export type PatchType = (typeof PatchType)[keyof typeof PatchType];

/** The core/v1 requests the operator makes, named as client-node names them. */
export interface CoreV1Api {
  readNamespace(params: { name: string }): Promise<KubernetesObject>;
  readNamespacedSecret(params: { name: string; namespace: string }): Promise<Secret>;
  createNamespacedSecret(params: { namespace: string; body: Secret }): Promise<Secret>;
  replaceNamespacedSecret(params: { name: string; namespace: string; body: Secret }): Promise<Secret>;
  patchNamespacedSecret(params: { name: string; namespace: string; body: object }, patchType?: PatchType): Promise<Secret>;
  deleteNamespacedSecret(params: { name: string; namespace: string; body?: object }): Promise<unknown>;
  createNamespacedEvent(params: { namespace: string; body: KubernetesObject & Record<string, unknown> }): Promise<unknown>;
}

/** Requests on custom resources (and Leases, which have the same shape of path). */
export interface CustomObjectsApi {
  getNamespacedCustomObject(params: NamedCustomPath): Promise<unknown>;
  listClusterCustomObject(params: CustomPath & ListOptions): Promise<unknown>;
  listNamespacedCustomObject(params: NamespacedCustomPath & ListOptions): Promise<unknown>;
  createNamespacedCustomObject(params: NamespacedCustomPath & { body: object }): Promise<unknown>;
  replaceNamespacedCustomObject(params: NamedCustomPath & { body: object }): Promise<unknown>;
  patchNamespacedCustomObject(params: NamedCustomPath & { body: object }, patchType?: PatchType): Promise<unknown>;
  patchNamespacedCustomObjectStatus(params: NamedCustomPath & { body: object }, patchType?: PatchType): Promise<unknown>;
}

export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
}

/**
 * Connections one shared agent keeps to the API server at most; requests
 * beyond that queue in the agent rather than open more.
 */
export const KUBE_MAX_SOCKETS = 64;

/** A request that has had no answer this long fails; a watch is exempt (its watchdog judges it). */
const REQUEST_TIMEOUT_MS = 60_000;

/** Shared agents by TLS identity; a few at most (a rotated client certificate makes a new one). */
const sharedAgents = new Map<string, http.Agent>();
const MAX_SHARED_AGENTS = 4;

function fingerprint(values: ReadonlyArray<string | Buffer | boolean | undefined>): string {
  const hash = createHash('sha256');
  for (const value of values) {
    if (Buffer.isBuffer(value)) hash.update(`b${value.length}:`).update(value);
    else if (typeof value === 'string') hash.update(`s${value.length}:${value}`);
    else hash.update(value === undefined ? 'u' : `j${String(value)}`);
  }
  return hash.digest('hex');
}

/** The agent key of each configuration, for requests whose credentials add no certificate: hashed once, not per request. */
const configAgentKeys = new WeakMap<KubeConfig, string>();

function agentKey(config: KubeConfig, credentials: RequestCredentials): string {
  if (!config.server.startsWith('https:')) return 'http';
  const certificateFromCredentials = credentials.cert !== undefined || credentials.key !== undefined;
  const cached = certificateFromCredentials ? undefined : configAgentKeys.get(config);
  if (cached) return cached;
  const { ca, servername, rejectUnauthorized } = config.tls;
  const key = `https:${fingerprint([ca, credentials.cert ?? config.tls.cert, credentials.key ?? config.tls.key, servername, rejectUnauthorized])}`;
  if (!certificateFromCredentials) configAgentKeys.set(config, key);
  return key;
}

/** The process-wide keep-alive agent for this server's TLS identity (CA, client certificate, servername). */
function agentFor(config: KubeConfig, credentials: RequestCredentials): http.Agent {
  const secure = config.server.startsWith('https:');
  // Only what is set: an agent's options override each request's, and an
  // explicit undefined would still count as given.
  const tls: https.AgentOptions = Object.fromEntries(
    Object.entries({
      ca: config.tls.ca,
      cert: credentials.cert ?? config.tls.cert,
      key: credentials.key ?? config.tls.key,
      servername: config.tls.servername,
      rejectUnauthorized: config.tls.rejectUnauthorized,
    }).filter(([, value]) => value !== undefined),
  );
  const key = agentKey(config, credentials);
  let agent = sharedAgents.get(key);
  if (!agent) {
    agent = countConnections(
      secure ? new https.Agent({ ...tls, keepAlive: true, maxSockets: KUBE_MAX_SOCKETS }) : new http.Agent({ keepAlive: true, maxSockets: KUBE_MAX_SOCKETS }),
    );
    sharedAgents.set(key, agent);
    // An agent dropped here is not destroyed: requests in flight finish on
    // it, and its idle sockets close when the server closes them.
    const oldest = sharedAgents.keys().next().value;
    if (sharedAgents.size > MAX_SHARED_AGENTS && oldest !== undefined) sharedAgents.delete(oldest);
  }
  return agent;
}

function queryString(query: Record<string, string | number | boolean | undefined>): string {
  const entries = Object.entries(query).filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
}

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: object;
  contentType?: string;
}

/** Sends one request; resolves with the response, or rejects with a KubeApiError for an error status. */
async function send(config: KubeConfig, method: string, path: string, options: RequestOptions, watch: boolean): Promise<http.IncomingMessage> {
  const credentials = await credentialsFor(config);
  const url = `${config.server}${path}${queryString(options.query ?? {})}`;
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers: http.OutgoingHttpHeaders = { Accept: 'application/json', 'User-Agent': 'infra-operator' };
  if (credentials.authorization) headers.Authorization = credentials.authorization;
  if (payload) {
    headers['Content-Type'] = options.contentType ?? 'application/json';
    headers['Content-Length'] = payload.length;
  }
  const transport = url.startsWith('https:') ? https : http;
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const request = transport.request(url, { method, headers, agent: agentFor(config, credentials) }, resolve);
    request.on('error', reject);
    if (!watch) {
      request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS / 1000} s`)));
    }
    request.end(payload);
  });
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return response;
  const text = await readBody(response);
  if (status === 401) forgetCredentials(config);
  let body: { message?: string; reason?: string } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = text ? { message: text.slice(0, 500) } : undefined;
  }
  throw new KubeApiError(status, body, `${method} ${path}`);
}

function readBody(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

/** One request and its JSON answer. */
async function kubeRequest<T>(config: KubeConfig, method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const text = await readBody(await send(config, method, path, options, false));
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * A watch: calls `onEvent` for each event line (ADDED, MODIFIED, DELETED,
 * BOOKMARK, ERROR) and `onDone` once when the stream ends, with the error
 * that ended it if any. Resolves, once the server has answered, with the
 * controller that closes it.
 */
export async function kubeWatch(
  config: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  onEvent: (type: string, object: CustomResource & { code?: number }) => void,
  onDone: (error?: unknown) => void,
): Promise<AbortController> {
  const response = await send(config, 'GET', path, { query: { ...query, watch: true } }, true);
  const controller = new AbortController();
  let done = false;
  const end = (error?: unknown) => {
    if (done) return;
    done = true;
    response.destroy();
    onDone(error);
  };
  controller.signal.addEventListener('abort', () => end());
  let pending = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    pending += chunk;
    for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (!line || done) continue;
      let event: { type: string; object: CustomResource & { code?: number } };
      try {
        event = JSON.parse(line) as typeof event;
      } catch (error) {
        end(error);
        return;
      }
      onEvent(event.type, event.object);
    }
  });
  response.on('end', () => end());
  response.on('error', (error) => end(error));
  response.on('close', () => end());
  return controller;
}

const customBase = ({ group, version }: CustomPath) => `/apis/${group}/${version}`;
const inNamespace = (path: NamespacedCustomPath) => `${customBase(path)}/namespaces/${encodeURIComponent(path.namespace)}/${path.plural}`;
const named = (path: NamedCustomPath) => `${inNamespace(path)}/${encodeURIComponent(path.name)}`;
const listQuery = (options: ListOptions) => ({
  limit: options.limit,
  continue: options._continue,
  labelSelector: options.labelSelector,
  resourceVersion: options.resourceVersion,
});

function coreApi(config: KubeConfig): CoreV1Api {
  const secret = (namespace: string, name?: string) =>
    `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
  return {
    readNamespace: ({ name }) => kubeRequest(config, 'GET', `/api/v1/namespaces/${encodeURIComponent(name)}`),
    readNamespacedSecret: ({ name, namespace }) => kubeRequest(config, 'GET', secret(namespace, name)),
    createNamespacedSecret: ({ namespace, body }) => kubeRequest(config, 'POST', secret(namespace), { body }),
    replaceNamespacedSecret: ({ name, namespace, body }) => kubeRequest(config, 'PUT', secret(namespace, name), { body }),
    patchNamespacedSecret: ({ name, namespace, body }, patchType = PatchType.MergePatch) =>
      kubeRequest(config, 'PATCH', secret(namespace, name), { body, contentType: patchType }),
    deleteNamespacedSecret: ({ name, namespace, body }) => kubeRequest(config, 'DELETE', secret(namespace, name), body ? { body } : {}),
    createNamespacedEvent: ({ namespace, body }) => kubeRequest(config, 'POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, { body }),
  };
}

function customObjectsApi(config: KubeConfig): CustomObjectsApi {
  return {
    getNamespacedCustomObject: (path) => kubeRequest(config, 'GET', named(path)),
    listClusterCustomObject: (path) => kubeRequest(config, 'GET', `${customBase(path)}/${path.plural}`, { query: listQuery(path) }),
    listNamespacedCustomObject: (path) => kubeRequest(config, 'GET', inNamespace(path), { query: listQuery(path) }),
    createNamespacedCustomObject: (path) => kubeRequest(config, 'POST', inNamespace(path), { body: path.body }),
    replaceNamespacedCustomObject: (path) => kubeRequest(config, 'PUT', named(path), { body: path.body }),
    patchNamespacedCustomObject: (path, patchType = PatchType.MergePatch) =>
      kubeRequest(config, 'PATCH', named(path), { body: path.body, contentType: patchType }),
    patchNamespacedCustomObjectStatus: (path, patchType = PatchType.MergePatch) =>
      kubeRequest(config, 'PATCH', `${named(path)}/status`, { body: path.body, contentType: patchType }),
  };
}

/**
 * Clients from KUBECONFIG, or the in-cluster service account. Every client
 * of the process, from every call, shares one keep-alive agent per TLS
 * identity, so requests reuse connections.
 */
export function kubeClients(config: KubeConfig = defaultKubeConfig()): KubeClients {
  return { config, core: coreApi(config), custom: customObjectsApi(config) };
}

let connectionsOpened = 0;

function countConnections(agent: http.Agent): http.Agent {
  const open = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    connectionsOpened++;
    return open(options, callback);
  };
  return agent;
}

/**
 * Connections the shared agents have opened since the process started (a
 * reused connection is not counted again), and the sockets they hold now,
 * busy or idle: for tests and metrics.
 */
export function kubeConnectionStats(): { opened: number; open: number } {
  let open = 0;
  for (const agent of sharedAgents.values()) {
    for (const sockets of [...Object.values(agent.sockets), ...Object.values(agent.freeSockets)]) open += sockets?.length ?? 0;
  }
  return { opened: connectionsOpened, open };
}

/** HTTP status of an API error, if it has one. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** The object, or null when the API answers 404. */
export async function readCustomResource<Spec, Status>(
  clients: KubeClients,
  ref: ObjectRef,
): Promise<CustomResource<Spec, Status> | null> {
  const { plural } = kindDefinition(ref.kind);
  try {
    return (await clients.custom.getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace: ref.namespace,
      plural,
      name: ref.name,
    })) as CustomResource<Spec, Status>;
  } catch (error) {
    if (httpStatus(error) === 404) return null;
    throw error;
  }
}

/** A JSON Patch (RFC 6902) on the object itself. */
export async function jsonPatchCustomResource(clients: KubeClients, ref: ObjectRef, patch: object[]): Promise<void> {
  await clients.custom.patchNamespacedCustomObject(
    {
      group: API_GROUP,
      version: API_VERSION,
      namespace: ref.namespace,
      plural: kindDefinition(ref.kind).plural,
      name: ref.name,
      body: patch,
    },
    PatchType.JsonPatch,
  );
}

/** A JSON merge patch on the status subresource. */
export async function mergePatchStatus(clients: KubeClients, ref: ObjectRef, body: object): Promise<void> {
  await clients.custom.patchNamespacedCustomObjectStatus(
    {
      group: API_GROUP,
      version: API_VERSION,
      namespace: ref.namespace,
      plural: kindDefinition(ref.kind).plural,
      name: ref.name,
      body,
    },
    PatchType.MergePatch,
  );
}

/**
 * This cluster's identity when none is configured: the UID of its
 * kube-system namespace, which is made once with the cluster and never
 * changes, and differs between any two clusters.
 */
export async function defaultClusterID(clients: KubeClients): Promise<string> {
  const namespace = await clients.core.readNamespace({ name: 'kube-system' });
  const uid = namespace.metadata?.uid;
  if (!uid) throw new Error('the kube-system namespace has no uid; set CLUSTER_ID');
  return uid;
}
