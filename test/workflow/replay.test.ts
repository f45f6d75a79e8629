/**
 * Replays every committed history in `test/fixtures/histories/` against the
 * current workflow code. Each was recorded from landed code
 * (`test/support/record-histories.ts`), so a failure here means a run in
 * flight today would break on the next worker deploy: fix the workflow with
 * `patched()` (docs/architecture.md, "When a workflow change needs
 * patched()"), never by re-recording the history.
 *
 * No server is needed: replay runs the bundled workflow against the history
 * in the worker alone.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DeterminismViolationError } from '@temporalio/workflow';

const historiesDirectory = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));
const nondeterministicPath = fileURLToPath(new URL('../fixtures/nondeterministic/index.ts', import.meta.url));
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

// Only warnings: a replay worker logs its start and stop at INFO.
Runtime.install({ logger: new DefaultLogger('WARN') });

const files = (await readdir(historiesDirectory)).filter((file) => file.endsWith('.json')).sort();

async function history(file: string): Promise<unknown> {
  return historyFromJSON(JSON.parse(await readFile(new URL(file, `file://${historiesDirectory}`), 'utf8')));
}

/** Replays `file` against `bundle`, naming the file in any failure. */
async function replay(bundle: WorkflowBundleWithSourceMap, file: string): Promise<void> {
  try {
    await Worker.runReplayHistory({ workflowBundle: bundle }, await history(file), `replay-${file}`);
  } catch (error) {
    if (error instanceof Error) error.message = `${file}: ${error.message}`;
    throw error;
  }
}

describe('committed histories replay against the current workflow', () => {
  let bundle: WorkflowBundleWithSourceMap;
  before(async () => {
    bundle = await bundleWorkflowCode({ workflowsPath, logger: silent });
  });

  test('there is a history for each recorded path', () => {
    assert.ok(files.length >= 8, `expected the committed histories in ${historiesDirectory}, found ${files.join(', ')}`);
  });

  for (const file of files) {
    test(file, async () => {
      await replay(bundle, file);
    });
  }
});

describe('replay catches a non-deterministic change', () => {
  let bundle: WorkflowBundleWithSourceMap;
  before(async () => {
    bundle = await bundleWorkflowCode({ workflowsPath: nondeterministicPath, logger: silent });
  });

  test('one timer added before the first load fails reconcile-create.json with a determinism violation', async () => {
    await assert.rejects(replay(bundle, 'reconcile-create.json'), (error: unknown) => {
      assert.ok(error instanceof DeterminismViolationError, `expected a DeterminismViolationError, got ${String(error)}`);
      assert.match(error.message, /^reconcile-create\.json: .*nondeterminism/i);
      return true;
    });
  });
});
