/**
 * Measures, on a throwaway real stack: the time from `kubectl apply` of one
 * S3Bucket to Ready, and from `kubectl delete` to the bucket gone from AWS,
 * plus the AWS calls each took (counted at the proxy in front of moto).
 *
 *   npx tsx bench/apply-to-ready.ts [runs]     (default 5)
 */
import { performance } from 'node:perf_hooks';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { providerName, startHarness } from '../test/support/harness.js';
import { summary } from './summary.js';

const runs = Number(process.argv[2] ?? 5);
const h = await startHarness({ RESYNC_SECONDS: '300' });
const s3 = new S3Client({
  region: 'us-east-1',
  endpoint: h.stack.awsEndpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});

try {
  await h.until('provider Ready', async () => (await h.get('awsproviders', providerName))?.status?.ready === true, 60_000);
  const toReady: number[] = [];
  const toGone: number[] = [];
  const createCalls: number[] = [];
  const deleteCalls: number[] = [];
  for (let run = 0; run < runs; run++) {
    const name = `bench-${run}`;
    const callsBefore = h.proxy.calls.length;
    const started = performance.now();
    await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: S3Bucket
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  bucketName: ${name}
  versioning: { enabled: true }
  deletionPolicy: Delete
`);
    await h.until(`${name} Ready`, async () => (await h.get('s3buckets', name))?.status?.ready === true, 60_000);
    toReady.push(performance.now() - started);
    createCalls.push(h.proxy.calls.slice(callsBefore).filter((call) => call.service === 's3').length);

    const deleteBefore = h.proxy.calls.length;
    const deleting = performance.now();
    await h.kubectl(['delete', 's3bucket', name, '--wait=false']);
    await h.until(`${name} gone from AWS`, async () => {
      try {
        await s3.send(new HeadBucketCommand({ Bucket: name }));
        return false;
      } catch {
        return true;
      }
    });
    toGone.push(performance.now() - deleting);
    await h.until(`${name} CR gone`, async () => (await h.get('s3buckets', name)) === null);
    deleteCalls.push(h.proxy.calls.slice(deleteBefore).filter((call) => call.service === 's3').length);
  }
  console.log(summary('S3Bucket apply -> Ready', toReady));
  console.log(summary('S3Bucket delete -> gone in AWS', toGone));
  console.log(`S3 API calls per create: ${createCalls.join(', ')}; per delete: ${deleteCalls.join(', ')}`);
} finally {
  await h.teardown();
}
