import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { crdDirectory, renderCrds } from './generate.js';
import { S3BucketKind } from './kinds/s3-bucket.js';
import { SQSQueueKind } from './kinds/sqs-queue.js';
import { customResourceDefinition } from './crd.js';

test('committed CRD YAML is exactly what the schemas generate', async () => {
  const rendered = renderCrds();
  const committed = (await readdir(crdDirectory)).filter((file) => file.endsWith('.yaml')).sort();
  assert.deepEqual(committed, [...rendered.keys()].sort(), 'one file per kind, no leftovers');
  for (const [file, text] of rendered) {
    assert.equal(await readFile(path.join(crdDirectory, file), 'utf8'), text, `${file} is stale: run npm run crds`);
  }
});

test('CRD has status subresource, printer columns, short names and the aws category', () => {
  const crd = customResourceDefinition(S3BucketKind) as { spec: { names: { categories: string[]; shortNames: string[] }; versions: Array<{ subresources: object; additionalPrinterColumns: Array<{ name: string }> }> } };
  assert.deepEqual(crd.spec.names.categories, ['aws']);
  assert.deepEqual(crd.spec.names.shortNames, ['s3b']);
  assert.deepEqual(crd.spec.versions[0].subresources, { status: {} });
  assert.ok(crd.spec.versions[0].additionalPrinterColumns.some((c) => c.name === 'Ready'));
});

test('schema: the guide manifests validate; bad values do not', () => {
  const guideBucket = {
    providerRef: { name: 'production-aws' },
    bucketName: 'mycompany-secure-data',
    versioning: { enabled: true },
    encryption: { algorithm: 'AES256' },
    publicAccessBlock: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true },
    tags: { Compliance: 'required' },
    deletionPolicy: 'Retain',
  };
  assert.ok(Value.Check(S3BucketKind.spec, guideBucket));
  assert.equal(Value.Check(S3BucketKind.spec, { ...guideBucket, bucketName: 'Bad_Name' }), false);
  assert.equal(Value.Check(S3BucketKind.spec, { ...guideBucket, deletionPolicy: 'Destroy' }), false);
  const guideQueue = {
    providerRef: { name: 'production-aws' },
    queueName: 'production-task-queue',
    fifoQueue: false,
    messageRetentionPeriod: 345600,
    visibilityTimeout: 30,
    deadLetterQueue: { queueARN: 'arn:aws:sqs:us-east-1:123456789012:production-dlq', maxReceiveCount: 3 },
    encryption: { enabled: true, kmsKeyID: 'alias/aws/sqs' },
    deletionPolicy: 'Delete',
  };
  assert.ok(Value.Check(SQSQueueKind.spec, guideQueue));
  assert.ok(Value.Check(SQSQueueKind.spec, { ...guideQueue, deadLetterQueue: { targetArn: guideQueue.deadLetterQueue.queueARN, maxReceiveCount: 3 } }));
  assert.equal(Value.Check(SQSQueueKind.spec, { ...guideQueue, visibilityTimeout: 50000 }), false);
});

test('immutable fields carry a CEL rule that names the field', () => {
  const crd = JSON.stringify(customResourceDefinition(S3BucketKind));
  assert.match(crd, /"rule":"self == oldSelf","message":"bucketName is immutable/);
});
