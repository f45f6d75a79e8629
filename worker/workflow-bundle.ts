/**
 * The workflow code the worker runs, bundled by webpack in a child process
 * that exits once the bundle is written. Bundling in the worker itself would
 * leave webpack's 100+ MiB of heap in a process that lives for months; a
 * bundle built ahead (WORKFLOW_BUNDLE_PATH, e.g. in a container image) skips
 * the step altogether.
 *
 *   node [--import tsx] worker/workflow-bundle.(ts|js) <workflowsPath> <outputFile>
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `workflowBundle` for Worker.create: the prebuilt file, or one bundled now in a child process. */
export async function workflowBundle(workflowsPath: string, prebuilt: string | undefined): Promise<{ codePath: string }> {
  if (prebuilt) return { codePath: prebuilt };
  const output = join(await mkdtemp(join(tmpdir(), 'infra-operator-workflows-')), 'workflow-bundle.js');
  const self = fileURLToPath(import.meta.url);
  // A source run (tsx) bundles through tsx too; a compiled run needs nothing.
  const loader = self.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, self, workflowsPath, output], { stdio: ['ignore', 'inherit', 'inherit'] });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bundling the workflow code failed (exit code ${code})`);
  return { codePath: output };
}

async function bundleTo(workflowsPath: string, output: string): Promise<void> {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const { code } = await bundleWorkflowCode({ workflowsPath });
  await writeFile(output, code);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [workflowsPath, output] = process.argv.slice(2);
  if (!workflowsPath || !output) throw new Error('usage: workflow-bundle <workflowsPath> <outputFile>');
  await bundleTo(workflowsPath, output);
}
