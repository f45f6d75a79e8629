/**
 * Runs the operator's processes against a local stack, as child processes,
 * so tests can kill and restart each of them: the worker and the watcher,
 * or `operator`, both parts in one process (operator/main.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export type OperatorProcess = 'worker' | 'watcher' | 'operator';

export interface OperatorOptions {
  kubeconfigPath: string;
  temporalAddress: string;
  taskQueue: string;
  /** Extra environment, e.g. RESYNC_SECONDS. */
  env?: Record<string, string>;
}

/** A TCP port free right now on this host. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export class Operator {
  private readonly processes = new Map<OperatorProcess, ChildProcess>();
  /** OPERATOR_HTTP_PORT of each process as last started: free ports, so stacks side by side never collide. */
  private readonly httpPorts = new Map<OperatorProcess, number>();
  /** TEMPORAL_METRICS_PORT of each process as last started (the worker serves the SDK's metrics there). */
  private readonly temporalMetricsPorts = new Map<OperatorProcess, number>();
  /** Everything the processes printed, for failure messages and secret checks. */
  readonly output: string[] = [];

  constructor(private readonly options: OperatorOptions) {}

  async start(which: OperatorProcess[] = ['worker', 'watcher']): Promise<void> {
    for (const name of which) {
      if (this.running(name)) continue;
      const httpPort = await freePort();
      this.httpPorts.set(name, httpPort);
      const temporalMetricsPort = await freePort();
      this.temporalMetricsPorts.set(name, temporalMetricsPort);
      // OPERATOR_DIST=<dir>: the compiled processes, as the container runs
      // them (`node dist/worker/main.js`), for benchmarks of memory and CPU.
      const compiled = process.env.OPERATOR_DIST;
      // The V8 flags both Deployments run with (deploy/helm/infra-operator/templates/*-deployment.yaml).
      const v8Flags = ['--max-semi-space-size=2', '--optimize-for-size'];
      const command = [...v8Flags, ...(compiled ? [`${compiled}/${name}/main.js`] : ['--import', 'tsx', `${name}/main.ts`])];
      const child = spawn(process.execPath, command, {
        cwd: root,
        env: {
          ...process.env,
          // As the image runs them (its ENV MALLOC_ARENA_MAX).
          MALLOC_ARENA_MAX: '2',
          KUBECONFIG: this.options.kubeconfigPath,
          TEMPORAL_ADDRESS: this.options.temporalAddress,
          TASK_QUEUE: this.options.taskQueue,
          ...this.options.env,
          OPERATOR_HTTP_PORT: String(httpPort),
          TEMPORAL_METRICS_PORT: String(temporalMetricsPort),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const collect = (chunk: Buffer) => {
        this.output.push(`[${name}] ${chunk.toString()}`);
        if (process.env.DEBUG_OPERATOR) process.stderr.write(`[${name}] ${chunk.toString()}`);
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      this.processes.set(name, child);
    }
  }

  /** The process ID of a running process, for benchmarks that read its CPU and memory. */
  pid(name: OperatorProcess): number | undefined {
    return this.running(name) ? this.processes.get(name)?.pid : undefined;
  }

  /** The base URL of a process's /healthz, /readyz and /metrics. */
  httpURL(name: OperatorProcess): string {
    const port = this.httpPorts.get(name);
    if (port === undefined) throw new Error(`${name} was never started`);
    return `http://127.0.0.1:${port}`;
  }

  /** The URL of the Temporal SDK's own metrics of a process. */
  temporalMetricsURL(name: OperatorProcess): string {
    const port = this.temporalMetricsPorts.get(name);
    if (port === undefined) throw new Error(`${name} was never started`);
    return `http://127.0.0.1:${port}/metrics`;
  }

  /** Another set of processes on the same cluster, Temporal and task queue (a second replica), with `env` added. */
  replica(env: Record<string, string>): Operator {
    return new Operator({ ...this.options, env: { ...this.options.env, ...env } });
  }

  running(name: OperatorProcess): boolean {
    const child = this.processes.get(name);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** How a process that has exited ended: its exit code, or null while running or when killed by a signal. */
  exitCode(name: OperatorProcess): number | null {
    return this.processes.get(name)?.exitCode ?? null;
  }

  /** Kills a process the hard way (SIGKILL): a crash, not a shutdown. */
  async kill(name: OperatorProcess): Promise<void> {
    await this.signal(name, 'SIGKILL');
  }

  async stop(which: OperatorProcess[] = ['watcher', 'worker', 'operator']): Promise<void> {
    for (const name of which) await this.signal(name, 'SIGTERM');
  }

  private async signal(name: OperatorProcess, signal: NodeJS.Signals): Promise<void> {
    const child = this.processes.get(name);
    if (!child || !this.running(name)) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** The tail of what the processes printed. */
  tail(lines = 40): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }
}
