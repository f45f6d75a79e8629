import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { HeadBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { FailureType } from '../../contract/failures.js';
import { toFailure } from './activities.js';
import { AWS_CALL_RETRIES } from './context.js';
import { isUnreachable } from './errors.js';
import { awsError, reasonOf, stubContext } from './testing.js';

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(endpoint: string, requestTimeout: number = AWS_CALL_RETRIES.requestHandler.requestTimeout): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' },
    ...AWS_CALL_RETRIES,
    requestHandler: { ...AWS_CALL_RETRIES.requestHandler, requestTimeout },
  });
}

test('each AWS call retries throttling itself, with backoff, before the activity sees it', async () => {
  const seen: number[] = [];
  const server = createServer((request, response) => {
    seen.push(Date.now());
    if (seen.length <= 2) {
      response.writeHead(503, { 'content-type': 'application/xml' });
      response.end('<Error><Code>SlowDown</Code><Message>slow down</Message></Error>');
      return;
    }
    response.writeHead(200);
    response.end();
    request.resume();
  });
  try {
    await client(await listen(server)).send(new HeadBucketCommand({ Bucket: 'b' }));
    assert.equal(seen.length, 3, 'two throttled answers, then success, inside one call');
  } finally {
    server.close();
  }
});

test('an endpoint that accepts connections and never answers fails the call as Unreachable, naming the endpoint', async () => {
  const sockets: Socket[] = [];
  const server = createTcpServer((socket) => sockets.push(socket));
  const endpoint = await listen(server);
  try {
    const started = Date.now();
    const error = await client(endpoint, 200)
      .send(new HeadBucketCommand({ Bucket: 'b' }))
      .then(() => assert.fail('a black hole never answers'), (e: unknown) => e);
    assert.ok(Date.now() - started < 10_000, 'the request timeout ends each attempt');
    assert.equal(isUnreachable(error), true, String(error));
    const failure = toFailure(error, {}, stubContext({}, { region: 'eu-west-1' }));
    assert.equal(reasonOf(failure), 'Unreachable');
    assert.equal(failure.nonRetryable, true, 'status says so now; the workflow keeps backing off');
    assert.match(failure.message, /AWS in eu-west-1 did not answer/);
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
});

test('a NotFound that escapes a handler is a missing AWS dependency: waited for with a long backoff, not retried', () => {
  const failure = toFailure(awsError('InvalidVpcID.NotFound', { message: "The vpc ID 'vpc-0000' does not exist" }), {
    notFound: ['InvalidVpcID.NotFound'],
  });
  assert.equal(failure.type, FailureType.DependencyNotReady);
  assert.equal(failure.nonRetryable, true);
  assert.equal(reasonOf(failure), 'DependencyNotFound');
  assert.deepEqual(failure.details?.[0], { reason: 'DependencyNotFound', missingInAws: true });
  assert.match(failure.message, /vpc-0000/);
});

test('terminal and retryable AWS errors keep their AWS name as the reason', () => {
  const terminal = toFailure(awsError('InvalidTag'));
  assert.equal(terminal.type, FailureType.Terminal);
  assert.equal(reasonOf(terminal), 'InvalidTag');
  const retryable = toFailure(awsError('InternalError', { fault: 'server' }));
  assert.equal(retryable.type, FailureType.Retryable);
  assert.equal(retryable.nonRetryable, false);
  assert.equal(reasonOf(retryable), 'InternalError');
});

test('an answer the SDK cannot parse is reported as such, not as a bare SyntaxError', async () => {
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/xml' });
    response.end('<<< not xml at all');
  });
  try {
    const endpoint = await listen(server);
    const error = await client(endpoint)
      .send(new ListBucketsCommand({}))
      .then(() => assert.fail('the answer is garbage'), (e: unknown) => e);
    const failure = toFailure(error, {}, stubContext({}, { region: 'us-east-1' }));
    assert.equal(reasonOf(failure), 'UnreadableAnswer', String(error));
    assert.match(failure.message, /answered something that is not a valid AWS response/);
  } finally {
    server.close();
  }
});

test('a connection reset after AWS answered before is an ordinary transient fault for the activity to retry, not Unreachable', () => {
  // The SDK names a reset TimeoutError too; its code tells them apart.
  const reset = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
  assert.equal(isUnreachable(reset), false);
  const failure = toFailure(reset);
  assert.equal(failure.nonRetryable, false);
  assert.notEqual(reasonOf(failure), 'Unreachable');
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  assert.equal(isUnreachable(refused), true);
});
