// Starts a private copy of the local stack (etcd + kube-apiserver, Temporal
// dev server, moto) for integration tests, on free ports and in a fresh temp
// state dir, by running the same stack/install.sh and stack/start.sh that
// developers use. Set DEBUG_STACK=1 to see the scripts' output live.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StackComponent = 'etcd' | 'kube' | 'temporal' | 'moto';

export const STACK_COMPONENTS: readonly StackComponent[] = ['etcd', 'kube', 'temporal', 'moto'];

export interface StackPorts {
  readonly etcd: number;
  readonly etcdPeer: number;
  readonly kube: number;
  readonly temporal: number;
  readonly moto: number;
}

export interface LocalStack {
  readonly stateDir: string;
  readonly kubeconfigPath: string;
  /** host:port of the Temporal frontend; the namespace is "default". */
  readonly temporalAddress: string;
  readonly awsEndpoint: string;
  readonly ports: StackPorts;
  /**
   * What stack/start.sh writes to <stateDir>/env: KUBECONFIG, TEMPORAL_ADDRESS,
   * TEMPORAL_NAMESPACE, AWS_ENDPOINT_URL and fake AWS credentials/region.
   * Spread it into a child process's env to point it at this stack.
   */
  readonly env: Readonly<Record<string, string>>;
  /** The Temporal web UI, when the stack was started with `temporalUi`. */
  readonly temporalUiUrl?: string;
  /** Stops every component and deletes the state dir. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops one component; its data (e.g. temporal.db) stays for a restart. */
  stopComponent(name: StackComponent): Promise<void>;
  /** (Re)starts one component on the same port; a no-op if it is running. */
  startComponent(name: StackComponent): Promise<void>;
}

export interface StartStackOptions {
  /** Components to start; default all. Starting kube also starts etcd. */
  readonly components?: readonly StackComponent[];
  /** Serve the Temporal web UI on a free port (tests run the dev server headless otherwise). */
  readonly temporalUi?: boolean;
}

const OUTPUT_TAIL_CHARS = 8000;

function findRepoRoot(): string {
  // Walk up rather than assume a fixed depth, so this also works when run
  // from a compiled copy under dist/.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'stack', 'start.sh'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`cannot find stack/start.sh above ${fileURLToPath(import.meta.url)}`);
    }
    dir = parent;
  }
}

const repoRoot = findRepoRoot();
const script = (name: string): string => join(repoRoot, 'stack', name);

function debugEnabled(): boolean {
  const v = process.env['DEBUG_STACK'];
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * Picks `count` distinct free TCP ports on 127.0.0.1. All listeners stay open
 * until every port is chosen so the kernel cannot hand out one port twice.
 */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            if (address === null || typeof address === 'string') {
              reject(new Error('unexpected address for a TCP listener'));
            } else {
              resolve(address.port);
            }
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(
      servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    );
  }
}

function runScript(name: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const debug = debugEnabled();
  return new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [script(name), ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', debug ? 'inherit' : 'pipe', debug ? 'inherit' : 'pipe'],
    });
    let tail = '';
    const collect = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (err) => reject(new Error(`cannot run stack/${name}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) {
        resolve();
        return;
      }
      const how = signal !== null ? `killed by ${signal}` : `exit code ${String(code)}`;
      const output = debug ? '(output shown above)' : tail.trimEnd() || '(no output)';
      reject(new Error(`stack/${name} ${args.join(' ')} failed (${how}):\n${output}`));
    });
  });
}

// Stacks still running when the test process exits (a test forgot stop(), or
// the runner bailed out) would otherwise outlive it, since the servers run in
// their own sessions. One listener for all stacks; stop() removes its entry.
const liveStateDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const dir of liveStateDirs) {
      spawnSync('bash', [script('stop.sh'), dir], { stdio: 'ignore', env: { ...process.env, STOP_GRACE_SECONDS: '3' } });
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * Starts a stack on fresh free ports, trying again on new ports when a start
 * fails: the Temporal dev server also takes ports of its own choosing, which
 * can collide with ours however carefully ours are picked.
 */
export async function startStack(options: StartStackOptions = {}): Promise<LocalStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (error) {
      if (attempt >= 3) throw error;
      process.stderr.write(`[stack] start failed (attempt ${attempt}); retrying on new ports\n`);
    }
  }
}

async function startStackOnce(options: StartStackOptions): Promise<LocalStack> {
  const components = options.components ?? STACK_COMPONENTS;
  // One call for all ports, so the UI's cannot be one of the others.
  const [etcd, etcdPeer, kube, temporal, moto, uiPort] = (await freePorts(options.temporalUi ? 6 : 5)) as [
    number,
    number,
    number,
    number,
    number,
    number | undefined,
  ];
  const ports: StackPorts = { etcd, etcdPeer, kube, temporal, moto };

  const scriptEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...(uiPort ? { HEADLESS: '0', TEMPORAL_UI_PORT: String(uiPort) } : { HEADLESS: '1' }),
    ETCD_PORT: String(ports.etcd),
    ETCD_PEER_PORT: String(ports.etcdPeer),
    KUBE_PORT: String(ports.kube),
    TEMPORAL_PORT: String(ports.temporal),
    MOTO_PORT: String(ports.moto),
  };

  await runScript('install.sh', [], scriptEnv);

  const stateDir = await mkdtemp(join(tmpdir(), 'infra-operator-stack-'));
  installExitHook();
  liveStateDirs.add(stateDir);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      await runScript('stop.sh', [stateDir], scriptEnv);
    } finally {
      liveStateDirs.delete(stateDir);
      await rm(stateDir, { recursive: true, force: true });
    }
  };

  try {
    await runScript('start.sh', [stateDir, ...components], scriptEnv);
  } catch (err: unknown) {
    // Keep the logs for a look when debugging; otherwise leave nothing behind.
    if (debugEnabled()) {
      liveStateDirs.delete(stateDir);
      await runScript('stop.sh', [stateDir], scriptEnv).catch(() => undefined);
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${message}\n(state dir kept for inspection: ${stateDir})`, { cause: err });
    }
    await stop().catch(() => undefined);
    throw err;
  }

  const kubeconfigPath = join(stateDir, 'kubeconfig');
  const temporalAddress = `127.0.0.1:${ports.temporal}`;
  const awsEndpoint = `http://127.0.0.1:${ports.moto}`;
  const env: Record<string, string> = {
    KUBECONFIG: kubeconfigPath,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    AWS_ENDPOINT_URL: awsEndpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
  };

  return {
    stateDir,
    kubeconfigPath,
    temporalAddress,
    awsEndpoint,
    ports,
    env,
    ...(uiPort ? { temporalUiUrl: `http://127.0.0.1:${uiPort}` } : {}),
    stop,
    stopComponent: async (name: StackComponent): Promise<void> => {
      if (stopped) throw new Error('stack already stopped');
      await runScript('stop.sh', [stateDir, name], scriptEnv);
    },
    startComponent: async (name: StackComponent): Promise<void> => {
      if (stopped) throw new Error('stack already stopped');
      await runScript('start.sh', [stateDir, name], scriptEnv);
    },
  };
}
