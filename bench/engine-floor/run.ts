/**
 * The engine floor: the same creates as the direct-SDK floor, each made by
 * the least workflow per resource (workflows.ts) on the same Temporal, with
 * the operator's default worker slots and signals in flight. Nothing else
 * runs in it (no Kubernetes reads or writes, no ownership checks), so the
 * operator can be no faster than this with one workflow per resource.
 */
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { parseMaxInFlight } from '../../watcher/dispatcher.js';
import { loadConfig } from '../../process/config.js';
import { pool } from '../support.js';
import { floorChanged, type engineFloorWorkflow } from './workflows.js';

export interface EngineFloor {
  ms: number;
  /** CPU seconds this process spent running the floor's worker (and its signals). */
  workerCpuSeconds: number;
}

let bundle: Promise<{ code: string }> | undefined;
// The SDK's INFO lines (a worker's every state change) would interleave with the printed results.
const quiet = new DefaultLogger('WARN');
let runtimeInstalled = false;

export async function engineFloor(
  temporal: Client,
  temporalAddress: string,
  names: string[],
  createDirect: (name: string) => Promise<void>,
): Promise<EngineFloor> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: quiet });
    runtimeInstalled = true;
  }
  bundle ??= bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)), logger: quiet });
  const config = loadConfig('worker');
  const taskQueue = `engine-floor-${randomUUID()}`;
  const connection = await NativeConnection.connect({ address: temporalAddress });
  let created = 0;
  let allCreated: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allCreated = resolve));
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await bundle,
    activities: {
      async createDirect(name: string) {
        await createDirect(name);
        if (++created === names.length) allCreated();
      },
    },
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.maxCachedWorkflows,
    stickyQueueScheduleToStartTimeout: config.stickyScheduleToStartSeconds * 1000,
  });
  const workflowIds = names.map((name) => `${taskQueue}-${name}`);
  const result = await worker.runUntil(async () => {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await pool(workflowIds, parseMaxInFlight(process.env.MAX_INFLIGHT_SIGNALS), async (workflowId, index) => {
      await temporal.workflow.signalWithStart<typeof engineFloorWorkflow, []>('engineFloorWorkflow', {
        workflowId,
        taskQueue,
        args: [names[index] ?? ''],
        signal: floorChanged,
        signalArgs: [],
      });
    });
    await done;
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    return { ms, workerCpuSeconds: (cpu.user + cpu.system) / 1e6 };
  });
  await pool(workflowIds, 16, async (workflowId) => {
    await temporal.workflow.getHandle(workflowId).terminate('engine floor measured').catch(() => undefined);
  });
  await connection.close();
  return result;
}

