import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { crdDirectory, renderCrds } from './generate.js';
import { S3BucketKind } from './kinds/s3-bucket.js';
import { SQSQueueKind } from './kinds/sqs-queue.js';
import { SubnetKind } from './kinds/subnet.js';
import { SecurityGroupKind } from './kinds/security-group.js';
import { AWSProviderKind } from './kinds/aws-provider.js';
import { customResourceDefinition, type JsonValue } from './crd.js';
import { kinds } from './index.js';

type Schema = { [key: string]: JsonValue };
interface Rule {
  rule: string;
  message: string;
  messageExpression?: string;
  fieldPath?: string;
}

/** The openAPIV3Schema of a kind's CRD, walked by property names (`[]` for list items). */
function schemaAt(crd: { [key: string]: JsonValue }, ...path: string[]): Schema {
  const versions = (crd.spec as Schema).versions as Array<{ schema: { openAPIV3Schema: Schema } }>;
  let schema = versions[0].schema.openAPIV3Schema;
  for (const step of path) schema = (step === '[]' ? schema.items : (schema.properties as Schema)[step]) as Schema;
  return schema;
}

function rulesAt(crd: { [key: string]: JsonValue }, ...path: string[]): Rule[] {
  return (schemaAt(crd, ...path)['x-kubernetes-validations'] ?? []) as unknown as Rule[];
}

test('committed CRD YAML is exactly what the schemas generate', async () => {
  const rendered = renderCrds();
  const committed = (await readdir(crdDirectory)).filter((file) => file.endsWith('.yaml')).sort();
  assert.deepEqual(committed, [...rendered.keys()].sort(), 'one file per kind, no leftovers');
  for (const [file, text] of rendered) {
    assert.equal(await readFile(path.join(crdDirectory, file), 'utf8'), text, `${file} is stale: run npm run crds`);
  }
});

type CrdShape = {
  spec: {
    names: { categories: string[]; shortNames: string[] };
    versions: Array<{ subresources: object; additionalPrinterColumns: Array<{ name: string; jsonPath: string; priority?: number }> }>;
  };
};

test('CRD has status subresource, printer columns, short names and the aws and infra-operator categories', () => {
  const crd = customResourceDefinition(S3BucketKind) as unknown as CrdShape;
  assert.deepEqual(crd.spec.names.categories, ['aws', 'infra-operator']);
  assert.deepEqual(crd.spec.names.shortNames, ['s3b']);
  assert.deepEqual(crd.spec.versions[0].subresources, { status: {} });
  assert.ok(crd.spec.versions[0].additionalPrinterColumns.some((c) => c.name === 'Ready'));
});

test('every kind is in both categories; every kind owning an AWS resource shows status.externalID with -o wide, before Age', () => {
  for (const definition of kinds) {
    const crd = customResourceDefinition(definition) as unknown as CrdShape;
    assert.deepEqual(crd.spec.names.categories, ['aws', 'infra-operator'], definition.kind);
    const columns = crd.spec.versions[0].additionalPrinterColumns;
    const own = definition.printerColumns.map((column) => column.name);
    const awsID = columns.filter((column) => column.jsonPath === '.status.externalID');
    if (definition === AWSProviderKind) {
      assert.deepEqual(columns.map((column) => column.name), own, 'a provider owns no AWS resource: no ID column');
      continue;
    }
    assert.deepEqual(awsID.map((column) => [column.name, column.priority]), [['AWS ID', 1]], definition.kind);
    assert.deepEqual(columns.map((column) => column.name), [...own.slice(0, -1), 'AWS ID', 'Age'], `${definition.kind}: existing columns kept in order`);
  }
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

test('optional immutable fields also get a presence rule on the spec, reported at the field; required ones need none', () => {
  const crd = customResourceDefinition(SubnetKind);
  const presence = rulesAt(crd, 'spec').filter((rule) => rule.rule.includes('oldSelf'));
  assert.deepEqual(
    presence.map((rule) => [rule.rule, rule.fieldPath]),
    [
      ['has(self.vpcID) == has(oldSelf.vpcID)', '.vpcID'],
      ['has(self.vpcRef) == has(oldSelf.vpcRef)', '.vpcRef'],
      ['has(self.availabilityZone) == has(oldSelf.availabilityZone)', '.availabilityZone'],
    ],
    'cidrBlock is required: removing it is refused anyway',
  );
  for (const rule of presence) assert.match(rule.message, /^\w+ is immutable: it can be neither added nor removed after creation/);
  assert.deepEqual(rulesAt(crd, 'spec')[0], SubnetKind.specRules?.[0], "the kind's own rules come first");
  // Every kind with an optional immutable field gets one rule per field, nothing for the others.
  for (const definition of kinds) {
    const spec = rulesAt(customResourceDefinition(definition), 'spec');
    for (const rule of spec.filter((r) => r.rule.includes('oldSelf'))) {
      const field = /^has\(self\.(\w+)\) == has\(oldSelf\.\1\)$/.exec(rule.rule)?.[1];
      assert.ok(field, `${definition.kind}: ${rule.rule}`);
      assert.ok(rulesAt(customResourceDefinition(definition), 'spec', field).some((r) => r.rule === 'self == oldSelf'), `${definition.kind}.${field}`);
    }
  }
});

test('CIDR fields: valid, of their family, no host bits; the validity rule guards the one that parses', () => {
  const vpc = rulesAt(customResourceDefinition(kinds.find((k) => k.kind === 'VPC')!), 'spec', 'cidrBlock');
  assert.deepEqual(
    vpc.map((rule) => rule.rule),
    ['isCIDR(self) && cidr(self).ip().family() == 4', '!isCIDR(self) || cidr(self).masked() == cidr(self)', 'self == oldSelf'],
  );
  const route = rulesAt(customResourceDefinition(kinds.find((k) => k.kind === 'RouteTable')!), 'spec', 'routes', '[]', 'destinationCidrBlock');
  assert.match(route[1].message, /^destinationCidrBlock has host bits set/);
  const sg = customResourceDefinition(SecurityGroupKind);
  for (const list of ['ingressRules', 'egressRules']) {
    assert.match(rulesAt(sg, 'spec', list, '[]', 'cidrBlocks', '[]')[0].rule, /family\(\) == 4/);
    assert.match(rulesAt(sg, 'spec', list, '[]', 'ipv6CidrBlocks', '[]')[0].rule, /family\(\) == 6/);
    assert.equal(schemaAt(sg, 'spec', list, '[]', 'ipv6CidrBlocks', '[]').maxLength, 43, 'bounded, for the CEL cost estimate');
  }
});

test('tags on every kind and the provider defaultTags: no aws: prefix in any case, AWS length limits, at most 48', () => {
  for (const definition of kinds) {
    const field = definition === AWSProviderKind ? 'defaultTags' : 'tags';
    const tags = schemaAt(customResourceDefinition(definition), 'spec', field);
    assert.equal(tags.maxProperties, 48, definition.kind);
    assert.deepEqual(tags.additionalProperties, { type: 'string', maxLength: 256 }, definition.kind);
    const rules = (tags['x-kubernetes-validations'] as unknown as Rule[]).map((rule) => rule.rule);
    assert.deepEqual(rules, ["self.all(k, !k.lowerAscii().startsWith('aws:'))", 'self.all(k, size(k) >= 1 && size(k) <= 128)'], definition.kind);
  }
});

test('security-group rules: ports ordered and in range per protocol, ICMP types and codes, protocol numbers', () => {
  const rules = rulesAt(customResourceDefinition(SecurityGroupKind), 'spec', 'ingressRules', '[]');
  const byMessage = (pattern: RegExp) => rules.find((rule) => pattern.test(rule.message));
  assert.deepEqual(byMessage(/fromPort is greater than toPort/)?.fieldPath, '.fromPort');
  assert.match(byMessage(/fromPort is greater than toPort/)?.rule ?? '', /self\.fromPort <= self\.toPort/);
  assert.match(byMessage(/tcp and udp ports/)?.rule ?? '', /self\.fromPort >= 0/);
  assert.match(byMessage(/ICMP type and toPort the ICMP code/)?.rule ?? '', /'icmp', 'icmpv6', '1', '58'/);
  assert.equal(byMessage(/fromPort -1 \(every ICMP type\) needs toPort -1/)?.fieldPath, '.toPort');
  assert.match(byMessage(/ipProtocol numbers are 0 to 255/)?.rule ?? '', /int\(self\.ipProtocol\) <= 255/);
});

test('S3: bucket names AWS reserves, lifecycle rules keyed by id, transitions before expiration and 30 days for IA', () => {
  const crd = customResourceDefinition(S3BucketKind);
  const names = rulesAt(crd, 'spec', 'bucketName').map((rule) => rule.rule);
  for (const expected of ["!self.contains('..')", "!self.startsWith('xn--')", "!self.startsWith('sthree-')", "!self.endsWith('-s3alias')", "!self.endsWith('--ol-s3')"]) {
    assert.ok(names.includes(expected), expected);
  }
  assert.ok(names.some((rule) => rule.includes('matches(')), 'IP-shaped names');
  const lifecycle = schemaAt(crd, 'spec', 'lifecycleRules');
  assert.equal(lifecycle['x-kubernetes-list-type'], 'map');
  assert.deepEqual(lifecycle['x-kubernetes-list-map-keys'], ['id']);
  assert.equal(lifecycle.maxItems, 1000);
  assert.match(rulesAt(crd, 'spec', 'lifecycleRules', '[]')[0].rule, /self\.transitions\.all\(t, t\.days < self\.expiration\.days\)/);
  const transition = rulesAt(crd, 'spec', 'lifecycleRules', '[]', 'transitions', '[]')[0];
  assert.equal(transition.rule, "!(self.storageClass in ['STANDARD_IA', 'ONEZONE_IA']) || self.days >= 30");
  assert.equal(transition.fieldPath, '.days');
});
