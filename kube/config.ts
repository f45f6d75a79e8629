/**
 * Where the Kubernetes API is and how to authenticate to it: a kubeconfig
 * (KUBECONFIG, or ~/.kube/config) or the pod's service account, as kubectl
 * and client-go find them. Credentials are resolved per request
 * (`credentialsFor`): a service account token is re-read as the kubelet
 * rotates it, and an exec plugin (`aws eks get-token`) runs again when its
 * credential nears expiry.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** TLS material for the API server's connections; Buffers as read, so they can be compared. */
export interface KubeTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  rejectUnauthorized: boolean;
}

interface ExecPlugin {
  command: string;
  args: string[];
  env: Array<{ name: string; value: string }>;
  apiVersion: string;
  /** The kubeconfig's directory: a relative command is resolved from it, as kubectl does. */
  baseDir: string;
}

export type KubeCredentials =
  | { type: 'none' }
  | { type: 'token'; token: string }
  | { type: 'tokenFile'; path: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'exec'; plugin: ExecPlugin };

export interface KubeConfig {
  /** Where the configuration came from, for messages: a path, or "in-cluster". */
  source: string;
  /** The API server's URL, without a trailing slash; a path prefix (a proxy's) is kept. */
  server: string;
  /** The context's namespace, or the service account's. */
  namespace: string;
  tls: KubeTls;
  credentials: KubeCredentials;
}

/** What one request carries: a header, and for some exec plugins a client certificate. */
export interface RequestCredentials {
  authorization?: string;
  cert?: Buffer;
  key?: Buffer;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Yaml = Record<string, unknown>;

function section(value: unknown): Yaml {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Yaml) : {};
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function named(list: unknown, name: string, what: string, source: string): Yaml {
  const entry = (Array.isArray(list) ? list : []).map(section).find((item) => item.name === name);
  if (!entry) throw new Error(`${source}: no ${what} named "${name}"`);
  return entry;
}

interface KubeconfigFile {
  path: string;
  document: Yaml;
}

/**
 * Several files (KUBECONFIG=a:b) merge as kubectl merges them: the first
 * file to name a cluster, user or context wins, and the first current-context set.
 */
function merged(files: KubeconfigFile[]): { document: Yaml; origin: Map<unknown, string> } {
  const origin = new Map<unknown, string>();
  const lists: Record<'clusters' | 'users' | 'contexts', Yaml[]> = { clusters: [], users: [], contexts: [] };
  let currentContext: string | undefined;
  for (const file of files) {
    currentContext ??= text(file.document['current-context']);
    for (const key of ['clusters', 'users', 'contexts'] as const) {
      for (const entry of (Array.isArray(file.document[key]) ? file.document[key] : []).map(section)) {
        if (lists[key].some((known) => known.name === entry.name)) continue;
        lists[key].push(entry);
        origin.set(entry, file.path);
      }
    }
  }
  return { document: { ...lists, 'current-context': currentContext }, origin };
}

function fileOrData(data: unknown, file: unknown, baseDir: string): Buffer | undefined {
  const encoded = text(data);
  if (encoded) return Buffer.from(encoded, 'base64');
  const path = text(file);
  return path ? readFileSync(isAbsolute(path) ? path : join(baseDir, path)) : undefined;
}

/** The configuration of `paths`' current context (or `context`). */
export function kubeConfigFromFiles(paths: string[], context?: string): KubeConfig {
  const files = paths.filter((path) => existsSync(path)).map((path) => ({ path, document: section(parse(readFileSync(path, 'utf8'))) }));
  const source = paths.join(delimiter);
  if (files.length === 0) throw new Error(`no kubeconfig at ${source}`);
  const { document, origin } = merged(files);
  const contextName = context ?? text(document['current-context']);
  if (!contextName) throw new Error(`${source}: no current-context`);
  const contextEntry = section(named(document.contexts, contextName, 'context', source).context);
  const clusterEntry = named(document.clusters, text(contextEntry.cluster) ?? '', 'cluster', source);
  const cluster = section(clusterEntry.cluster);
  const userName = text(contextEntry.user);
  const userEntry = userName ? named(document.users, userName, 'user', source) : {};
  const user = section(userEntry.user);
  const clusterDir = dirname(origin.get(clusterEntry) ?? files[0].path);
  const userDir = dirname(origin.get(userEntry) ?? files[0].path);
  const server = text(cluster.server);
  if (!server) throw new Error(`${source}: cluster "${String(clusterEntry.name)}" has no server`);
  if (user['auth-provider'] !== undefined) {
    throw new Error(`${source}: user "${userName}" uses an auth-provider, which Kubernetes removed; use an exec plugin`);
  }
  return {
    source,
    server: server.replace(/\/+$/, ''),
    namespace: text(contextEntry.namespace) ?? 'default',
    tls: {
      ca: fileOrData(cluster['certificate-authority-data'], cluster['certificate-authority'], clusterDir),
      cert: fileOrData(user['client-certificate-data'], user['client-certificate'], userDir),
      key: fileOrData(user['client-key-data'], user['client-key'], userDir),
      servername: text(cluster['tls-server-name']),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    },
    credentials: userCredentials(user, userDir),
  };
}

function userCredentials(user: Yaml, baseDir: string): KubeCredentials {
  const token = text(user.token);
  if (token) return { type: 'token', token };
  const tokenFile = text(user.tokenFile) ?? text(user['token-file']);
  if (tokenFile) return { type: 'tokenFile', path: isAbsolute(tokenFile) ? tokenFile : join(baseDir, tokenFile) };
  const exec = section(user.exec);
  const command = text(exec.command);
  if (command) {
    return {
      type: 'exec',
      plugin: {
        command,
        args: (Array.isArray(exec.args) ? exec.args : []).map(String),
        env: (Array.isArray(exec.env) ? exec.env : []).map(section).map((entry) => ({ name: String(entry.name), value: text(entry.value) ?? '' })),
        apiVersion: text(exec.apiVersion) ?? 'client.authentication.k8s.io/v1',
        baseDir,
      },
    };
  }
  const username = text(user.username);
  if (username) return { type: 'basic', username, password: text(user.password) ?? '' };
  return { type: 'none' };
}

/** The pod's service account, as client-go's rest.InClusterConfig reads it. */
export function inClusterKubeConfig(serviceAccountDir = SERVICE_ACCOUNT_DIR): KubeConfig {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset');
  const namespacePath = join(serviceAccountDir, 'namespace');
  return {
    source: 'in-cluster',
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    namespace: existsSync(namespacePath) ? readFileSync(namespacePath, 'utf8').trim() : 'default',
    tls: { ca: readFileSync(join(serviceAccountDir, 'ca.crt')), rejectUnauthorized: true },
    credentials: { type: 'tokenFile', path: join(serviceAccountDir, 'token') },
  };
}

/** KUBECONFIG, then ~/.kube/config, then the service account: the order kubectl and client-go use. */
export function defaultKubeConfig(): KubeConfig {
  const fromEnvironment = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (fromEnvironment.length > 0) return kubeConfigFromFiles(fromEnvironment);
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return kubeConfigFromFiles([home]);
  return inClusterKubeConfig();
}

/** A bound service account token lives an hour and the kubelet renews it early: a minute-old read is fresh enough. */
const TOKEN_FILE_MAX_AGE_MS = 60_000;
/** An exec credential is run again this long before it expires. */
const EXEC_EXPIRY_MARGIN_MS = 60_000;

interface Cached {
  credentials: RequestCredentials;
  until: number;
}

const resolved = new WeakMap<KubeCredentials, Cached>();
const running = new WeakMap<KubeCredentials, Promise<Cached>>();

/** What the next request authenticates with; cached per configuration. */
export async function credentialsFor(config: KubeConfig): Promise<RequestCredentials> {
  const source = config.credentials;
  switch (source.type) {
    case 'none':
      return {};
    case 'token':
      return { authorization: `Bearer ${source.token}` };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${source.username}:${source.password}`).toString('base64')}` };
    case 'tokenFile':
    case 'exec': {
      const cached = resolved.get(source);
      if (cached && cached.until > Date.now()) return cached.credentials;
      let pending = running.get(source);
      if (!pending) {
        pending = (source.type === 'tokenFile' ? readTokenFile(source.path) : runExecPlugin(source.plugin)).finally(() => running.delete(source));
        running.set(source, pending);
      }
      const fresh = await pending;
      resolved.set(source, fresh);
      return fresh.credentials;
    }
  }
}

/** Forgets a credential the API server refused (401), so the next request fetches a new one. */
export function forgetCredentials(config: KubeConfig): void {
  resolved.delete(config.credentials);
}

async function readTokenFile(path: string): Promise<Cached> {
  const token = (await readFile(path, 'utf8')).trim();
  return { credentials: { authorization: `Bearer ${token}` }, until: Date.now() + TOKEN_FILE_MAX_AGE_MS };
}

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** Runs a client-go credential plugin (ExecCredential) and reads its answer. */
function runExecPlugin(plugin: ExecPlugin): Promise<Cached> {
  const command = plugin.command.includes('/') && !isAbsolute(plugin.command) ? join(plugin.baseDir, plugin.command) : plugin.command;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const { name, value } of plugin.env) env[name] = value;
  env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: plugin.apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
  return new Promise((resolve, reject) => {
    const child = spawn(command, plugin.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => reject(new Error(`kubeconfig exec plugin ${plugin.command}: ${error.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`kubeconfig exec plugin ${plugin.command} exited ${code}: ${stderr.trim().slice(0, 500)}`));
        return;
      }
      try {
        const status = section(section(JSON.parse(stdout)).status) as ExecCredentialStatus;
        // No expiry: good until the API server refuses it (forgetCredentials), as client-go has it.
        const expires = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Number.POSITIVE_INFINITY;
        if (Number.isNaN(expires)) throw new Error(`expirationTimestamp ${status.expirationTimestamp} is not a time`);
        resolve({
          credentials: {
            ...(status.token ? { authorization: `Bearer ${status.token}` } : {}),
            ...(status.clientCertificateData ? { cert: Buffer.from(status.clientCertificateData) } : {}),
            ...(status.clientKeyData ? { key: Buffer.from(status.clientKeyData) } : {}),
          },
          until: expires - EXEC_EXPIRY_MARGIN_MS,
        });
      } catch (error) {
        // JSON.parse's message quotes the text it failed on, which is the credential: never repeat it.
        const why = error instanceof SyntaxError ? 'its output is not JSON' : (error as Error).message;
        reject(new Error(`kubeconfig exec plugin ${plugin.command} printed no ExecCredential: ${why}`));
      }
    });
  });
}
