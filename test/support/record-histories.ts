/**
 * Records the replay histories in `test/fixtures/histories/`: one per path
 * through the reconcile workflow, driven over a `FakeWorld` on a real
 * Temporal dev server, each saved with `historyToJSON`.
 *
 * Histories are recorded only from landed code (a commit that passed CI),
 * never from a change under review, and an existing history is never
 * re-recorded: replay proves that the current workflow still accepts what
 * the deployed one wrote, and a history recorded from the change proves
 * nothing. So this script refuses to run in a checkout whose workflow or
 * fake differ from its commit, and refuses to overwrite a file. Run it from
 * a throwaway worktree of the landed commit (see docs/architecture.md,
 * "Tests"):
 *
 *   git worktree add /tmp/landed <commit>
 *   ln -s "$PWD/node_modules" /tmp/landed/node_modules
 *   cp test/support/record-histories.ts /tmp/landed/test/support/
 *   (cd /tmp/landed && npx tsx test/support/record-histories.ts "$PWD/test/fixtures/histories" [name …])
 *   git worktree remove --force /tmp/landed
 *
 * It uses only what the workflow and the fake have long exported, so it
 * runs against older commits too.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import type { WorkflowHandleWithSignaledRunId } from '@temporalio/client';
import { reconcileWorkflow } from '../../workflows/reconcile.js';
import type { ReconcileInput } from '../../workflows/state.js';
import { dependencyChangedSignal, resourceChangedSignal, searchAttributes } from '../../workflows/messages.js';
import { FakeWorld, eventually, providerNotReady, retryable, terminal } from './fake-world.js';
import { temporalBinary } from './binaries.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ref = { kind: 'S3Bucket', namespace: 'default', name: 'data' };
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

type Handle = WorkflowHandleWithSignaledRunId<typeof reconcileWorkflow>;
type History = proto.temporal.api.history.v1.IHistory;

interface Run {
  env: TestWorkflowEnvironment;
  world: FakeWorld;
  handle: Handle;
  /** Tells the workflow the object changed, as the watcher does. */
  signalChange: () => Promise<void>;
}

interface Path {
  /** File name without `.json`. */
  name: string;
  input: Partial<ReconcileInput>;
  world: () => FakeWorld;
  /** Drives the run to a clean end and returns the history to keep. */
  drive: (run: Run) => Promise<History>;
}

const phaseIs = (world: FakeWorld, phase: string) => () => world.lastStatus?.phase === phase;

/** Deletes the resource under deletionPolicy Delete and returns the completed run's history. */
async function deleteAndFinish({ world, handle, signalChange }: Run): Promise<History> {
  world.resource!.deleting = true;
  await signalChange();
  await handle.result();
  if (world.resource !== null || world.aws.exists) throw new Error('deletion did not finish cleanly');
  return handle.fetchHistory();
}

/** Ready, one in-sync drift check on the resync timer, a drift repaired at the next, then deleted. */
async function readyDriftRepairedDeleted(run: Run): Promise<History> {
  const { world } = run;
  await eventually('Ready', phaseIs(world, 'Ready'));
  const observed = world.count('observeResource');
  await eventually('a drift check on the resync timer', () => world.count('observeResource') >= observed + 1, 5000);
  world.aws.differences = ['versioning: Enabled -> Suspended'];
  await eventually('drift repaired', () => world.events.some((e) => e.reason === 'DriftRepaired'), 5000);
  await eventually('Ready again with nothing to repair', () => world.count('updateResource') === 1 && phaseIs(world, 'Ready')());
  return deleteAndFinish(run);
}

/** A create path: a world set up by `configure`, then readyDriftRepairedDeleted. */
function createPath(name: string, configure: (world: FakeWorld) => void): Path {
  return {
    name,
    input: { resyncSeconds: 1 },
    world: () => {
      const world = new FakeWorld();
      configure(world);
      return world;
    },
    drive: readyDriftRepairedDeleted,
  };
}

const paths: Path[] = [
  createPath('reconcile-create', () => {}),
  // Since create-answers: the create's answer stands for the look after it.
  createPath('reconcile-create-answers', (world) => {
    world.createAnswers = true;
  }),
  // Since engine-2026-12: observe creates a createsTagged kind's resource; no Pending status first.
  createPath('reconcile-observe-creates', (world) => {
    world.createsTagged = true;
  }),
  // Since engine-2026-12, a kind that creates in two activities (S3): one patch marker, no Creating Event.
  createPath('reconcile-create-current', (world) => {
    world.createAnswers = true;
  }),
  {
    name: 'reconcile-provisioning',
    input: { resyncSeconds: 60 },
    world: () => {
      const world = new FakeWorld();
      world.aws.ready = false;
      return world;
    },
    async drive(run) {
      const { world } = run;
      await eventually('Provisioning', phaseIs(world, 'Provisioning'));
      // Two observes in the first pass (before and after create), then one per backoff timer: 1 s, 2 s, 4 s.
      await eventually('three backoff timers fired', () => world.count('observeResource') >= 5, 15_000);
      world.aws.ready = true;
      await eventually('Ready', phaseIs(world, 'Ready'), 15_000);
      return deleteAndFinish(run);
    },
  },
  {
    name: 'reconcile-terminal',
    input: { resyncSeconds: 60 },
    world: () => {
      const world = new FakeWorld();
      world.failNext('createResource', terminal('InvalidBucketName', 'The specified bucket is not valid.'));
      return world;
    },
    async drive(run) {
      const { world, signalChange } = run;
      await eventually('Error status', () => world.lastStatus?.conditions[0]?.reason === 'InvalidBucketName');
      world.resource!.generation = 2;
      await signalChange();
      await eventually('Ready after the spec changed', () => world.lastStatus?.observedGeneration === 2 && phaseIs(world, 'Ready')());
      return deleteAndFinish(run);
    },
  },
  {
    name: 'reconcile-retryable',
    input: { resyncSeconds: 60 },
    world: () => {
      const world = new FakeWorld();
      // Five is the activity's maximumAttempts: Temporal's retries run out,
      // the workflow reports the error and backs off on its own timer.
      world.failNext('observeResource', ...Array.from({ length: 5 }, (_, i) => retryable('ThrottlingException', `Rate exceeded (${i + 1})`)));
      return world;
    },
    async drive(run) {
      const { world } = run;
      await eventually('the error reported', () => world.lastStatus?.phase === 'Error', 30_000);
      await eventually('Ready after the backoff', phaseIs(world, 'Ready'), 15_000);
      return deleteAndFinish(run);
    },
  },
  {
    name: 'reconcile-provider-wait',
    input: { resyncSeconds: 3600 },
    world: () => {
      const world = new FakeWorld();
      world.failNext('observeResource', ...['p1', 'p2', 'AWSProvider default/aws is not Ready'].map((message) => providerNotReady(message)));
      return world;
    },
    async drive(run) {
      const { world, handle } = run;
      await eventually('the third check reported Waiting', () =>
        world.lastStatus?.phase === 'Waiting' && /not Ready/.test(world.lastStatus.conditions[0]?.message ?? ''),
      );
      await handle.signal(dependencyChangedSignal, { kind: 'AWSProvider', namespace: 'default', name: 'aws' });
      await eventually('Ready', phaseIs(world, 'Ready'));
      return deleteAndFinish(run);
    },
  },
  {
    name: 'reconcile-continue-as-new',
    input: { resyncSeconds: 0.2, maxHistoryEvents: 60 },
    world: () => new FakeWorld(),
    async drive(run) {
      const { env, world, handle } = run;
      await eventually('Ready', phaseIs(world, 'Ready'));
      const firstRun = handle.signaledRunId;
      for (const deadline = Date.now() + 15_000; (await handle.describe()).runId === firstRun; ) {
        if (Date.now() > deadline) throw new Error('the workflow did not continue as new');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // The first run ends in ContinueAsNew; that is the history kept. The
      // next run is cleaned up and not recorded.
      const history = await env.client.workflow.getHandle(handle.workflowId, firstRun).fetchHistory();
      await deleteAndFinish(run);
      return history;
    },
  },
  {
    name: 'reconcile-vanished',
    input: { resyncSeconds: 3600 },
    world: () => new FakeWorld(),
    async drive({ world, handle }) {
      await eventually('Ready', phaseIs(world, 'Ready'));
      // The finalizer was forced off: the object is gone from the API and
      // the watcher sends its last uid, deleting.
      const { uid, generation } = world.resource!;
      world.resource = null;
      await handle.signal(resourceChangedSignal, { uid, generation, deleting: true });
      await handle.result();
      if (world.aws.exists || world.count('deleteResource') !== 1) throw new Error('the vanished object\'s AWS resource was not deleted');
      return handle.fetchHistory();
    },
  },
];

/**
 * The paths first recorded before engine-2026-12, recorded again under it:
 * every run started since carries its marker, so these are what the runs in
 * flight now replay, where the older files are what runs from before it do.
 * reconcile-provisioning is not among them: its count of observes (five by
 * the third backoff timer) does not hold under the patch, and its drive
 * needs rewriting first.
 */
const RECORDED_AGAIN_UNDER_CURRENT_PATCH = [
  'reconcile-create',
  'reconcile-terminal',
  'reconcile-retryable',
  'reconcile-provider-wait',
  'reconcile-continue-as-new',
  'reconcile-vanished',
];
for (const name of RECORDED_AGAIN_UNDER_CURRENT_PATCH) {
  const earlier = paths.find((p) => p.name === name);
  if (!earlier) throw new Error(`no path ${name} to record again`);
  paths.push({ ...earlier, name: `${name}-engine-2026-12` });
}

/** The commit this checkout is at; refuses one whose workflow or fake differ from it. */
function landedCommit(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  const changed = git('status', '--porcelain', '--', 'workflows', 'shared', 'test/support/fake-world.ts');
  if (changed) {
    throw new Error(`record only from landed code: this checkout has uncommitted changes to what the workflow runs:\n${changed}`);
  }
  return git('rev-parse', '--short', 'HEAD');
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function record(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap, target: Path): Promise<History> {
  const world = target.world();
  const taskQueue = `record-${randomUUID()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: world.activities() });
  const change = () => ({
    uid: world.resource?.uid ?? 'gone',
    generation: world.resource?.generation ?? 0,
    deleting: world.resource?.deleting ?? true,
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart(reconcileWorkflow, {
      workflowId: `${ref.kind}/${ref.namespace}/${ref.name}/${target.name}-${randomUUID()}`,
      taskQueue,
      args: [{ ref, resyncSeconds: 60, ...target.input }],
      signal: resourceChangedSignal,
      signalArgs: [change()],
    });
    return target.drive({ env, world, handle, signalChange: () => handle.signal(resourceChangedSignal, change()) });
  });
}

async function main(): Promise<void> {
  const [outDir, ...names] = process.argv.slice(2);
  if (!outDir) throw new Error('usage: tsx test/support/record-histories.ts <output directory> [name …]');
  const unknown = names.filter((name) => !paths.some((p) => p.name === name));
  if (unknown.length) throw new Error(`no such path: ${unknown.join(', ')}; known: ${paths.map((p) => p.name).join(', ')}`);
  const commit = landedCommit();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  await mkdir(outDir, { recursive: true });
  const chosen: Array<{ target: Path; file: string }> = [];
  for (const target of paths.filter((p) => !names.length || names.includes(p.name))) {
    const file = path.join(outDir, `${target.name}.json`);
    if (await exists(file)) {
      console.error(`${target.name}.json exists: a committed history is never re-recorded (delete it by hand only if its path can no longer happen)`);
      // Asked for by name: say so in the exit status too.
      if (names.length) process.exitCode = 1;
    } else {
      chosen.push({ target, file });
    }
  }
  if (!chosen.length) return;

  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await temporalBinary() },
      searchAttributes: Object.values(searchAttributes),
    },
  });
  try {
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(root, 'workflows/index.ts'), logger: silent });
    for (const { target, file } of chosen) {
      const history = await record(env, bundle, target);
      const last = history.events?.at(-1)?.eventType;
      const lastName = last === undefined || last === null ? 'none' : proto.temporal.api.enums.v1.EventType[last];
      await writeFile(file, historyToJSON(history));
      console.log(`${target.name}.json: ${history.events?.length ?? 0} events, last ${lastName}, from ${commit}`);
    }
  } finally {
    await env.teardown();
  }
}

await main();
