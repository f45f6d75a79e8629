import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorClass, INVALID_SPEC, classifyAwsError, errorName } from './errors.js';

function awsError(name: string, fault: 'client' | 'server', status: number, retryable?: boolean): Error {
  const error = new Error(`message mentioning Throttling and NotFound that must not matter`);
  return Object.assign(error, {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    ...(retryable ? { $retryable: { throttling: true } } : {}),
  });
}

const cases: Array<{ reason: string; error: unknown; expected: ErrorClass }> = [
  { reason: 'throttling by name', error: awsError('ThrottlingException', 'client', 400), expected: ErrorClass.Retryable },
  { reason: 'S3 SlowDown', error: awsError('SlowDown', 'server', 503), expected: ErrorClass.Retryable },
  { reason: 'SDK $retryable marker', error: awsError('SomethingNew', 'client', 400, true), expected: ErrorClass.Retryable },
  { reason: 'any 5xx server fault', error: awsError('InternalError', 'server', 500), expected: ErrorClass.Retryable },
  { reason: '429 without a known name', error: awsError('Whatever', 'client', 429), expected: ErrorClass.Retryable },
  { reason: 'S3 conflicting operation in progress', error: awsError('OperationAborted', 'client', 409), expected: ErrorClass.Retryable },
  { reason: 'SQS queue deleted recently', error: awsError('QueueDeletedRecently', 'client', 400), expected: ErrorClass.Retryable },
  { reason: 'network refused', error: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), expected: ErrorClass.Retryable },
  { reason: 'SDK timeout', error: Object.assign(new Error('t'), { name: 'TimeoutError' }), expected: ErrorClass.Retryable },
  { reason: 'access denied is terminal', error: awsError('AccessDenied', 'client', 403), expected: ErrorClass.Terminal },
  { reason: 'validation is terminal', error: awsError('InvalidArgument', 'client', 400), expected: ErrorClass.Terminal },
  { reason: 'bad credentials are terminal', error: awsError('InvalidClientTokenId', 'client', 403), expected: ErrorClass.Terminal },
  { reason: 'NoSuchBucket is not found', error: awsError('NoSuchBucket', 'client', 404), expected: ErrorClass.NotFound },
  { reason: 'SQS non-existent queue is not found', error: awsError('AWS.SimpleQueueService.NonExistentQueue', 'client', 400), expected: ErrorClass.NotFound },
  { reason: 'a bare 404 (HeadBucket) is not found', error: awsError('NotFound', 'client', 404), expected: ErrorClass.NotFound },
];

for (const { reason, error, expected } of cases) {
  test(`classifyAwsError: ${reason}`, () => assert.equal(classifyAwsError(error), expected));
}

test('classifyAwsError: handler codes override the defaults', () => {
  const error = awsError('BucketAlreadyExists', 'client', 409);
  assert.equal(classifyAwsError(error, { retryable: ['BucketAlreadyExists'] }), ErrorClass.Retryable);
  assert.equal(classifyAwsError(error, { terminal: ['BucketAlreadyExists'] }), ErrorClass.Terminal);
});

test('classifyAwsError: a spec the schema should have refused is terminal for every kind, whatever its codes', () => {
  const error = Object.assign(new Error('the spec names no VPC: set vpcID or vpcRef'), { name: INVALID_SPEC });
  assert.equal(classifyAwsError(error), ErrorClass.Terminal);
  assert.equal(classifyAwsError(error, { retryable: ['RouteAlreadyExists'], notFound: ['InvalidVpcID.NotFound'] }), ErrorClass.Terminal);
});

test('errorName prefers the AWS name, then the Node code', () => {
  assert.equal(errorName(awsError('AccessDenied', 'client', 403)), 'AccessDenied');
  assert.equal(errorName(Object.assign(new Error('x'), { code: 'ECONNRESET' })), 'ECONNRESET');
  assert.equal(errorName('text'), 'Error');
});
