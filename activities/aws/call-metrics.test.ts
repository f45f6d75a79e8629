import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { sampleValue } from '../../process/metrics.js';
import { callLabels, countAwsCalls } from './call-metrics.js';

test('SDK client and command names become service and operation', () => {
  assert.deepEqual(callLabels({ clientName: 'S3Client', commandName: 'CreateBucketCommand' }), { service: 'S3', operation: 'CreateBucket' });
  assert.deepEqual(callLabels({}), { service: 'unknown', operation: 'unknown' });
});

test('every attempt a real SDK client sends is counted: throttled apart from other errors and successes', async () => {
  // An S3 endpoint that throttles the first CreateBucket, then creates; HEAD answers 403.
  let creates = 0;
  const server = http.createServer((request, response) => {
    if (request.method === 'HEAD') {
      response.writeHead(403).end();
      return;
    }
    request.resume();
    if (creates++ === 0) {
      response.writeHead(503, { 'content-type': 'application/xml' });
      response.end('<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    response.writeHead(200, { location: '/metrics-bucket' }).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const client = countAwsCalls(
    new S3Client({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-secret' },
      maxAttempts: 3,
      retryMode: 'standard',
    }),
  );
  const count = (operation: string, outcome: string) => sampleValue('infra_operator_aws_calls_total', { service: 'S3', operation, outcome });
  try {
    const before = { throttled: await count('CreateBucket', 'throttled'), success: await count('CreateBucket', 'success'), denied: await count('HeadBucket', 'error') };
    await client.send(new CreateBucketCommand({ Bucket: 'metrics-bucket' }));
    await assert.rejects(client.send(new HeadBucketCommand({ Bucket: 'metrics-bucket' })));
    assert.equal(await count('CreateBucket', 'throttled'), before.throttled + 1, 'the throttled attempt, though the call succeeded on retry');
    assert.equal(await count('CreateBucket', 'success'), before.success + 1);
    assert.equal(await count('HeadBucket', 'error'), before.denied + 1, 'a 403 is not retried, and not throttling');
    countAwsCalls(client);
    await client.send(new CreateBucketCommand({ Bucket: 'metrics-bucket' }));
    assert.equal(await count('CreateBucket', 'success'), before.success + 2, 'counting a client twice counts each call once');
    assert.equal(countAwsCalls('a stub'), 'a stub', 'a client without a middleware stack is left as it is');
  } finally {
    client.destroy();
    server.close();
  }
});
