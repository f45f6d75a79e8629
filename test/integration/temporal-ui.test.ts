/**
 * The Temporal UI as a person inspecting a provisioning run uses it, in a
 * real browser: Debian's chromium (installed by `stack/install.sh chromium`),
 * headless, driven by playwright-core, against the local stack's own
 * Temporal UI. It filters runs by a custom resource's kind, name and region,
 * opens the run, and finds the create step with its summary in the history.
 * The screenshots are left in .artifacts/temporal-ui/ (ignored by git).
 *
 * No browser, no pass: a Chromium that cannot be installed or launched
 * fails this test, saying so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import type proto from '@temporalio/proto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { workflowIdFor } from '../../contract/identity.js';
import { providerName, startHarness, type CustomObject, type Harness } from '../support/harness.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = fileURLToPath(new URL('../../.artifacts/temporal-ui/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';

let h: Harness;
let browser: Browser;
let page: Page;

/** The browser, or a failure naming why there is none: never a silent skip. */
async function launchChromium(): Promise<Browser> {
  try {
    await run('bash', ['stack/install.sh', 'chromium'], { cwd: root });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`the Temporal UI test needs Debian's chromium and stack/install.sh could not install it:\n${stderr}`, { cause: error });
  }
  try {
    return await chromium.launch({ executablePath: CHROMIUM, headless: true });
  } catch (error) {
    throw new Error(`the Temporal UI test cannot launch headless Chromium at ${CHROMIUM}: ${(error as Error).message}`, { cause: error });
  }
}

before(async () => {
  // The browser first: without one there is nothing to test, so say so at once.
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  h = await startHarness({}, { temporalUi: true });
  assert.ok(h.stack.temporalUiUrl, 'the stack was asked for its UI');
  await mkdir(artifacts, { recursive: true });
}, { timeout: 600_000 });

after(async () => {
  await browser?.close();
  await h?.teardown();
});

function summaryOf(event: proto.temporal.api.history.v1.IHistoryEvent): string | undefined {
  const payload = event.userMetadata?.summary;
  return payload ? defaultPayloadConverter.fromPayload<string>(payload) : undefined;
}

describe('the Temporal UI shows what a run does to which resource', () => {
  const name = `ui-${Date.now().toString(36)}`;
  const ref = { kind: 'S3Bucket', namespace: 'default', name };
  const workflowId = workflowIdFor(ref);
  const createSummary = `create S3Bucket default/${name} in AWS`;
  let accountID: string;

  test('the bucket becomes Ready, and its run is indexed by kind, name, phase, account and region', async () => {
    await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: S3Bucket
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  bucketName: ${name}-bucket
`);
    await h.until(`S3Bucket ${name} Ready`, async () => (await h.get('s3bucket', name))?.status?.ready === true, 240_000);
    const provider = await h.get<CustomObject>('awsprovider', providerName);
    const account = provider?.status?.accountID;
    assert.ok(typeof account === 'string' && /^\d{12}$/.test(account), `the provider knows its account: ${JSON.stringify(account)}`);
    accountID = account;

    const query = `ResourceKind="S3Bucket" AND ResourceNamespace="default" AND ResourceName="${name}" AND ResourcePhase="Ready" AND AwsRegion="us-east-1" AND AwsAccount="${accountID}"`;
    const found = await h.until(
      `visibility to index ${workflowId} as Ready in us-east-1 / ${accountID}`,
      async () => {
        const ids: string[] = [];
        for await (const execution of h.temporal.workflow.list({ query })) ids.push(execution.workflowId);
        return ids.length ? ids : undefined;
      },
      60_000,
    );
    assert.deepEqual(found, [workflowId]);
  });

  test("the run's history names each step: the create activity and the drift-check timer carry summaries", async () => {
    const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events ?? [];
    const create = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createResource');
    assert.ok(create, 'the run created the bucket');
    assert.equal(summaryOf(create), createSummary);
    const observes = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'observeResource');
    assert.ok(observes.length > 0);
    for (const observe of observes) assert.match(summaryOf(observe) ?? '', new RegExp(`^observe S3Bucket default/${name}( \\(${name}-bucket\\))? in AWS$`));
    const timers = events.filter((e) => e.timerStartedEventAttributes).map(summaryOf);
    assert.ok(
      timers.some((summary) => summary?.includes(`then check S3Bucket default/${name} for drift in AWS`)),
      `a timer waits for the drift check: ${timers.join(' | ')}`,
    );
    const local = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').map(summaryOf);
    assert.ok(local.includes(`read S3Bucket default/${name} from Kubernetes`), `local activities carry summaries too: ${local.join(' | ')}`);
  });

  test('in headless Chromium: filter by kind, name and region, open the run, find the create step', async () => {
    const ui = h.stack.temporalUiUrl ?? '';
    const query = `ResourceKind="S3Bucket" AND ResourceName="${name}" AND AwsRegion="us-east-1"`;
    await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    // The list shows the filters as chips, and exactly this resource's run.
    await page.getByText(`"${name}"`).first().waitFor({ timeout: 60_000 });
    const runLink = page.getByRole('link', { name: workflowId, exact: true });
    await runLink.waitFor({ timeout: 60_000 });
    assert.equal(await page.getByRole('link', { name: /^S3Bucket\// }).count(), 1, 'only this bucket matches');
    await page.screenshot({ path: `${artifacts}list.png` });

    await runLink.click();
    await page.waitForURL(/\/history/, { timeout: 60_000 });
    assert.ok(decodeURIComponent(page.url()).includes(`/workflows/${workflowId}/`), page.url());
    // The event list: the create activity's row with its summary.
    const createRow = page.locator('[data-testid="event-summary-row"]', { hasText: 'createResource' }).filter({ hasText: createSummary });
    await createRow.first().waitFor({ timeout: 60_000 });
    assert.match(await createRow.first().innerText(), /Activity Task Scheduled/);
    // The timeline draws it as `createResource • <summary>`.
    await page.getByText(`createResource • ${createSummary}`).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: `${artifacts}run.png` });
    await createRow.first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${artifacts}create-step.png` });
  });
});
