/**
 * What the API server refuses at apply, proven on a real kube-apiserver (no
 * operator, no Temporal, no AWS): each bad manifest is refused by
 * `kubectl apply --dry-run=server` with the field named, each good one is
 * accepted, and an immutable field can be neither changed, added nor removed
 * after creation. The CRDs' CEL rules are only as good as this file shows:
 * a unit test can check a rule's text, not that the server runs it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { kinds } from '../../crds/index.js';
import { stackBinary } from '../support/binaries.js';
import { startStack, type LocalStack } from '../support/stack.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const API = 'aws-infra-operator.runner.codes/v1alpha1';

let stack: LocalStack;
let kubectlPath: string;

async function kubectl(args: string[], stdin?: string): Promise<string> {
  const child = run(kubectlPath, ['--kubeconfig', stack.kubeconfigPath, ...args], { cwd: root, maxBuffer: 32 << 20 });
  if (stdin !== undefined) child.child.stdin?.end(stdin);
  return (await child).stdout;
}

before(async () => {
  stack = await startStack({ components: ['etcd', 'kube'] });
  kubectlPath = await stackBinary('kubectl');
  await kubectl(['apply', '-f', 'deploy/crds/']);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
});

after(async () => {
  await stack?.stop();
});

type Spec = Record<string, unknown>;

/** A minimal valid spec of every kind; cases override one field. */
const valid: Record<string, Spec> = {
  AWSProvider: { region: 'us-east-1' },
  S3Bucket: { providerRef: { name: 'aws' }, bucketName: 'validation-bucket' },
  SQSQueue: { providerRef: { name: 'aws' }, queueName: 'validation-queue' },
  VPC: { providerRef: { name: 'aws' }, cidrBlock: '10.0.0.0/16' },
  Subnet: { providerRef: { name: 'aws' }, vpcID: 'vpc-0abc', cidrBlock: '10.0.1.0/24' },
  InternetGateway: { providerRef: { name: 'aws' }, vpcID: 'vpc-0abc' },
  NATGateway: { providerRef: { name: 'aws' }, subnetID: 'subnet-0abc' },
  RouteTable: { providerRef: { name: 'aws' }, vpcID: 'vpc-0abc' },
  SecurityGroup: { providerRef: { name: 'aws' }, groupName: 'validation', vpcID: 'vpc-0abc' },
  ElasticIP: { providerRef: { name: 'aws' } },
  SNSTopic: { providerRef: { name: 'aws' }, topicName: 'validation-topic' },
  DBSubnetGroup: { providerRef: { name: 'aws' }, name: 'validation', description: 'validation', subnetIDs: ['subnet-0abc', 'subnet-0def'] },
  RDSInstance: {
    providerRef: { name: 'aws' },
    dbInstanceIdentifier: 'validation',
    dbInstanceClass: 'db.t3.micro',
    engine: 'postgres',
    masterUsername: 'admin',
    masterUserPasswordSecretRef: { name: 'db', key: 'password' },
  },
  CacheSubnetGroup: { providerRef: { name: 'aws' }, name: 'validation', subnetIDs: ['subnet-0abc'] },
  ElastiCacheCluster: { providerRef: { name: 'aws' }, clusterID: 'validation', engine: 'redis', nodeType: 'cache.t3.micro' },
  DynamoDBTable: { providerRef: { name: 'aws' }, tableName: 'validation', hashKey: { name: 'id', type: 'S' } },
};

function manifest(kind: string, name: string, spec: Spec): string {
  return JSON.stringify({ apiVersion: API, kind, metadata: { name, namespace: 'default' }, spec });
}

/** The API server's answer to a server-side dry run: null when accepted, else its error text. */
async function dryRun(kind: string, spec: Spec): Promise<string | null> {
  try {
    await kubectl(['apply', '--dry-run=server', '-f', '-'], manifest(kind, 'validation', spec));
    return null;
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

const rule = (overrides: Spec): Spec => ({ ...valid.SecurityGroup, ingressRules: [{ ipProtocol: 'tcp', fromPort: 443, cidrBlocks: ['0.0.0.0/0'], ...overrides }] });
const lifecycle = (...rules: Spec[]): Spec => ({ ...valid.S3Bucket, lifecycleRules: rules });
const manyTags = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`key-${i}`, 'value']));

/** Each bad spec, and what the refusal must say: the field's path, then the message. */
const refused: Array<{ what: string; kind: string; spec: Spec; error: RegExp }> = [
  // CIDR blocks: valid, IPv4 (or IPv6), no host bits.
  { what: 'VPC cidrBlock with host bits', kind: 'VPC', spec: { ...valid.VPC, cidrBlock: '10.7.3.5/16' }, error: /spec\.cidrBlock: .*cidrBlock 10\.7\.3\.5\/16 has host bits set/ },
  { what: 'VPC cidrBlock not an address', kind: 'VPC', spec: { ...valid.VPC, cidrBlock: '999.0.0.0/16' }, error: /spec\.cidrBlock: / },
  { what: 'Subnet cidrBlock with host bits', kind: 'Subnet', spec: { ...valid.Subnet, cidrBlock: '10.0.1.5/24' }, error: /spec\.cidrBlock: .*has host bits set/ },
  {
    what: 'route destinationCidrBlock with host bits',
    kind: 'RouteTable',
    spec: { ...valid.RouteTable, routes: [{ destinationCidrBlock: '10.7.3.5/16', gatewayID: 'igw-0abc' }] },
    error: /spec\.routes\[0\]\.destinationCidrBlock: .*destinationCidrBlock 10\.7\.3\.5\/16 has host bits set/,
  },
  {
    what: 'route destinationCidrBlock not an address',
    kind: 'RouteTable',
    spec: { ...valid.RouteTable, routes: [{ destinationCidrBlock: '999.0.0.0/0', gatewayID: 'igw-0abc' }] },
    error: /spec\.routes\[0\]\.destinationCidrBlock: .*destinationCidrBlock 999\.0\.0\.0\/0 is not an IPv4 CIDR block/,
  },
  { what: 'rule cidrBlocks with host bits', kind: 'SecurityGroup', spec: rule({ cidrBlocks: ['0.0.0.0/0', '10.7.3.5/16'] }), error: /spec\.ingressRules\[0\]\.cidrBlocks\[1\]: .*cidrBlocks 10\.7\.3\.5\/16 has host bits set/ },
  { what: 'rule cidrBlocks not an address', kind: 'SecurityGroup', spec: rule({ cidrBlocks: ['999.0.0.0/0'] }), error: /spec\.ingressRules\[0\]\.cidrBlocks\[0\]: .*cidrBlocks 999\.0\.0\.0\/0 is not an IPv4 CIDR block/ },
  { what: 'rule ipv6CidrBlocks with host bits', kind: 'SecurityGroup', spec: rule({ cidrBlocks: undefined, ipv6CidrBlocks: ['2001:db8::1/32'] }), error: /spec\.ingressRules\[0\]\.ipv6CidrBlocks\[0\]: .*has host bits set/ },
  { what: 'rule ipv6CidrBlocks not an address', kind: 'SecurityGroup', spec: rule({ cidrBlocks: undefined, ipv6CidrBlocks: ['1::2::3/64'] }), error: /spec\.ingressRules\[0\]\.ipv6CidrBlocks\[0\]: .*is not an IPv6 CIDR block/ },

  // Security-group ports, ICMP types and codes, protocol numbers.
  { what: 'tcp fromPort above toPort', kind: 'SecurityGroup', spec: rule({ fromPort: 443, toPort: 80 }), error: /spec\.ingressRules\[0\]\.fromPort: .*fromPort is greater than toPort/ },
  {
    what: 'egress udp fromPort above toPort',
    kind: 'SecurityGroup',
    spec: { ...valid.SecurityGroup, egressRules: [{ ipProtocol: '17', fromPort: 600, toPort: 500, cidrBlocks: ['0.0.0.0/0'] }] },
    error: /spec\.egressRules\[0\]\.fromPort: .*fromPort is greater than toPort/,
  },
  { what: 'tcp port -1', kind: 'SecurityGroup', spec: rule({ fromPort: -1, toPort: -1 }), error: /spec\.ingressRules\[0\]: .*tcp and udp ports \(fromPort, toPort\) are 0 to 65535/ },
  { what: 'tcp port above 65535', kind: 'SecurityGroup', spec: rule({ toPort: 65536 }), error: /spec\.ingressRules\[0\]\.toPort: .*65535/ },
  { what: 'port below -1', kind: 'SecurityGroup', spec: rule({ ipProtocol: 'icmp', fromPort: -2 }), error: /spec\.ingressRules\[0\]\.fromPort: .*-1/ },
  { what: 'icmp type above 255', kind: 'SecurityGroup', spec: rule({ ipProtocol: 'icmp', fromPort: 300, toPort: -1 }), error: /spec\.ingressRules\[0\]: .*fromPort is the ICMP type and toPort the ICMP code: each 0 to 255/ },
  { what: 'icmpv6 code above 255', kind: 'SecurityGroup', spec: rule({ ipProtocol: '58', fromPort: 128, toPort: 256 }), error: /spec\.ingressRules\[0\]: .*ICMP code/ },
  { what: 'icmp every type but one code', kind: 'SecurityGroup', spec: rule({ ipProtocol: 'icmp', fromPort: -1, toPort: 0 }), error: /spec\.ingressRules\[0\]\.toPort: .*fromPort -1 \(every ICMP type\) needs toPort -1/ },
  { what: 'protocol number above 255', kind: 'SecurityGroup', spec: rule({ ipProtocol: '300' }), error: /spec\.ingressRules\[0\]\.ipProtocol: .*ipProtocol 300 is not a protocol number/ },

  // S3 bucket names the pattern lets through.
  ...[
    ['192.168.5.4', /may not be formatted as an IP address/],
    ['my..bucket', /may not contain two adjacent periods/],
    ['xn--bucket', /may not start with xn--/],
    ['sthree-bucket', /may not start with sthree-/],
    ['amzn-s3-demo-bucket', /may not start with amzn-s3-demo-/],
    ['bucket-s3alias', /may not end with -s3alias/],
    ['bucket--ol-s3', /may not end with --ol-s3/],
    ['bucket.mrap', /may not end with \.mrap/],
    ['bucket--x-s3', /may not end with --x-s3/],
    ['bucket--table-s3', /may not end with --table-s3/],
  ].map(([bucketName, message]) => ({
    what: `bucketName ${String(bucketName)}`,
    kind: 'S3Bucket',
    spec: { ...valid.S3Bucket, bucketName },
    error: new RegExp(`spec\\.bucketName: .*bucketName ${(message as RegExp).source}`),
  })),

  // Lifecycle rules.
  {
    what: 'transition on the expiration day',
    kind: 'S3Bucket',
    spec: lifecycle({ id: 'a', enabled: true, transitions: [{ days: 30, storageClass: 'STANDARD_IA' }, { days: 365, storageClass: 'GLACIER' }], expiration: { days: 365 } }),
    error: /spec\.lifecycleRules\[0\]\.transitions: .*transitions must come before expiration/,
  },
  {
    what: 'STANDARD_IA before 30 days',
    kind: 'S3Bucket',
    spec: lifecycle({ id: 'a', enabled: true, transitions: [{ days: 10, storageClass: 'STANDARD_IA' }] }),
    error: /spec\.lifecycleRules\[0\]\.transitions\[0\]\.days: .*a transition to STANDARD_IA needs days of at least 30/,
  },
  {
    what: 'ONEZONE_IA before 30 days',
    kind: 'S3Bucket',
    spec: lifecycle({ id: 'a', enabled: true, transitions: [{ days: 90, storageClass: 'GLACIER' }, { days: 29, storageClass: 'ONEZONE_IA' }] }),
    error: /spec\.lifecycleRules\[0\]\.transitions\[1\]\.days: .*ONEZONE_IA needs days of at least 30/,
  },
  {
    what: 'duplicate lifecycle rule ids',
    kind: 'S3Bucket',
    spec: lifecycle({ id: 'logs', enabled: true, expiration: { days: 7 } }, { id: 'logs', enabled: true, expiration: { days: 30 } }),
    error: /spec\.lifecycleRules\[1\]: Duplicate value/,
  },

  // SQS: the dead-letter queue is of the queue's type.
  {
    what: 'FIFO queue with a standard dead-letter queue',
    kind: 'SQSQueue',
    spec: { ...valid.SQSQueue, queueName: 'orders.fifo', fifoQueue: true, deadLetterQueue: { queueARN: 'arn:aws:sqs:us-east-1:123456789012:orders-dlq', maxReceiveCount: 3 } },
    error: /spec\.deadLetterQueue: .*deadLetterQueue must be a queue of the same type/,
  },
  {
    what: 'standard queue with a FIFO dead-letter queue',
    kind: 'SQSQueue',
    spec: { ...valid.SQSQueue, deadLetterQueue: { targetArn: 'arn:aws:sqs:us-east-1:123456789012:orders-dlq.fifo', maxReceiveCount: 3 } },
    error: /spec\.deadLetterQueue: .*deadLetterQueue must be a queue of the same type/,
  },

  // Tags: AWS's reserved prefix (any case) and limits, on every kind.
  ...kinds.map((definition) => {
    const field = definition.kind === 'AWSProvider' ? 'defaultTags' : 'tags';
    return {
      what: `${definition.kind} ${field} key aws:`,
      kind: definition.kind,
      spec: { ...valid[definition.kind], [field]: { Name: 'x', 'aws:cloudformation:stack-name': 'x' } },
      error: new RegExp(`spec\\.${field}: .*${field}: key aws:cloudformation:stack-name starts with aws:`),
    };
  }),
  { what: 'tag key AWS: in capitals', kind: 'VPC', spec: { ...valid.VPC, tags: { 'AWS:Name': 'x' } }, error: /spec\.tags: .*key AWS:Name starts with aws:/ },
  { what: 'tag key of 129 characters', kind: 'VPC', spec: { ...valid.VPC, tags: { ['k'.repeat(129)]: 'x' } }, error: /spec\.tags: .*AWS tag keys are 1 to 128 characters long/ },
  { what: 'empty tag key', kind: 'S3Bucket', spec: { ...valid.S3Bucket, tags: { '': 'x' } }, error: /spec\.tags: .*AWS tag keys are 1 to 128 characters long/ },
  { what: 'tag value of 257 characters', kind: 'SQSQueue', spec: { ...valid.SQSQueue, tags: { Name: 'v'.repeat(257) } }, error: /spec\.tags\.Name: Too long: .*256/ },
  { what: '49 tags', kind: 'Subnet', spec: { ...valid.Subnet, tags: manyTags(49) }, error: /spec\.tags: Too many: .*48/ },
  { what: '49 default tags', kind: 'AWSProvider', spec: { ...valid.AWSProvider, defaultTags: manyTags(49) }, error: /spec\.defaultTags: Too many: .*48/ },
];

/** Specs at the edge of each rule, which AWS accepts. */
const accepted: Array<{ what: string; kind: string; spec: Spec }> = [
  { what: 'icmp echo request: type 8 above code 0', kind: 'SecurityGroup', spec: rule({ ipProtocol: 'icmp', fromPort: 8, toPort: 0 }) },
  { what: 'icmp every type and code', kind: 'SecurityGroup', spec: rule({ ipProtocol: 'icmp', fromPort: -1 }) },
  { what: 'icmpv6 type 255 code 255', kind: 'SecurityGroup', spec: rule({ ipProtocol: 'icmpv6', fromPort: 255, toPort: 255, cidrBlocks: undefined, ipv6CidrBlocks: ['::/0', '2001:db8::/32'] }) },
  { what: 'tcp every port', kind: 'SecurityGroup', spec: rule({ fromPort: 0, toPort: 65535 }) },
  { what: 'all traffic with ports -1', kind: 'SecurityGroup', spec: rule({ ipProtocol: '-1', fromPort: -1, toPort: -1 }) },
  { what: 'protocol number 50 (ESP)', kind: 'SecurityGroup', spec: rule({ ipProtocol: '50', fromPort: undefined }) },
  { what: 'route to everything and a /32', kind: 'RouteTable', spec: { ...valid.RouteTable, routes: [{ destinationCidrBlock: '0.0.0.0/0', gatewayID: 'igw-0abc' }, { destinationCidrBlock: '10.9.8.7/32', natGatewayID: 'nat-0abc' }] } },
  { what: 'VPC /28', kind: 'VPC', spec: { ...valid.VPC, cidrBlock: '192.168.0.16/28' } },
  { what: 'bucket names with dots and single dashes', kind: 'S3Bucket', spec: { ...valid.S3Bucket, bucketName: 'xn-logs.example.com-s3' } },
  {
    what: 'transitions at 0 and 30 days, expiring the day after the last',
    kind: 'S3Bucket',
    spec: lifecycle(
      { id: 'a', enabled: true, transitions: [{ days: 0, storageClass: 'GLACIER_IR' }, { days: 30, storageClass: 'STANDARD_IA' }], expiration: { days: 31 } },
      { id: 'b', enabled: true, transitions: [{ days: 1, storageClass: 'INTELLIGENT_TIERING' }] },
    ),
  },
  {
    what: 'FIFO queue with a FIFO dead-letter queue',
    kind: 'SQSQueue',
    spec: { ...valid.SQSQueue, queueName: 'orders.fifo', fifoQueue: true, deadLetterQueue: { queueARN: 'arn:aws:sqs:us-east-1:123456789012:orders-dlq.fifo', maxReceiveCount: 3 } },
  },
  { what: 'tags at the limits', kind: 'VPC', spec: { ...valid.VPC, tags: { ...manyTags(45), ['k'.repeat(128)]: 'v'.repeat(256), 'aws-team': '', awsome: 'x' } } },
];

describe('the API server refuses bad input at apply, naming the field', () => {
  for (const { what, kind, spec, error } of refused) {
    test(`${kind}: ${what}`, async () => {
      const answer = await dryRun(kind, spec);
      assert.notEqual(answer, null, 'accepted, but should have been refused');
      assert.match(answer ?? '', error);
    });
  }
});

describe('the API server accepts good input', () => {
  test("every manifest of the earlier operator's guide and every example", async () => {
    for (const file of ['test/fixtures/guide-manifests.yaml', 'examples/']) {
      const output = await kubectl(['apply', '--dry-run=server', '-f', file]);
      assert.doesNotMatch(output, /error|invalid/i, output);
    }
  });

  test('the deploy manifest installs: namespace, two service accounts, least-privilege roles, both Deployments', async () => {
    // Applied for real (no kubelet here, so the pods never run): a dry run
    // cannot create objects inside a namespace it only pretends to make.
    await kubectl(['apply', '-f', 'deploy/operator.yaml']);
    const roles = JSON.parse(await kubectl(['get', 'clusterroles', 'infra-operator-worker', 'infra-operator-watcher', '-o', 'json'])) as {
      items: Array<{ metadata: { name: string }; rules: Array<{ resources: string[]; verbs: string[] }> }>;
    };
    const verbsOn = (role: string, resource: string) =>
      roles.items
        .filter((item) => item.metadata.name === role)
        .flatMap((item) => item.rules.filter((rule) => rule.resources.includes(resource)).flatMap((rule) => rule.verbs))
        .sort();
    assert.deepEqual(
      verbsOn('infra-operator-worker', 'secrets'),
      ['create', 'delete', 'get', 'patch', 'update'],
      'read a Secret by name, put the in-use finalizer on it, and write connection Secrets; never list or watch',
    );
    assert.deepEqual(verbsOn('infra-operator-watcher', 'secrets'), [], 'the watcher never touches Secrets');
    const deployments = await kubectl(['get', 'deployments', '-n', 'infra-operator-system', '-o', 'name']);
    assert.match(deployments, /worker/);
    assert.match(deployments, /watcher/);
    await kubectl(['delete', '-f', 'deploy/operator.yaml', '--wait=false']);
  });

  for (const { what, kind, spec } of accepted) {
    test(`${kind}: ${what}`, async () => {
      assert.equal(await dryRun(kind, spec), null);
    });
  }
});

describe('an immutable field can be neither changed, added nor removed after creation', () => {
  const cases: Array<{ kind: string; plural: string; create: Spec; patches: Array<{ what: string; patch: unknown; type?: 'merge' | 'json'; error: RegExp }> }> = [
    {
      kind: 'Subnet',
      plural: 'subnets',
      create: valid.Subnet,
      patches: [
        { what: 'changed', patch: { spec: { cidrBlock: '10.0.2.0/24' } }, error: /spec\.cidrBlock: .*cidrBlock is immutable/ },
        { what: 'added', patch: { spec: { availabilityZone: 'us-east-1a' } }, error: /spec\.availabilityZone: .*availabilityZone is immutable: it can be neither added nor removed/ },
        { what: 'swapped for its reference', patch: { spec: { vpcID: null, vpcRef: { name: 'app-vpc' } } }, error: /spec\.vpcID: .*vpcID is immutable: it can be neither added nor removed[\s\S]*spec\.vpcRef: .*vpcRef is immutable/ },
      ],
    },
    {
      kind: 'Subnet',
      plural: 'subnets',
      create: { ...valid.Subnet, availabilityZone: 'us-east-1a' },
      patches: [{ what: 'removed', type: 'json', patch: [{ op: 'remove', path: '/spec/availabilityZone' }], error: /spec\.availabilityZone: .*availabilityZone is immutable: it can be neither added nor removed/ }],
    },
    {
      kind: 'VPC',
      plural: 'vpcs',
      create: valid.VPC,
      patches: [{ what: 'added', patch: { spec: { instanceTenancy: 'dedicated' } }, error: /spec\.instanceTenancy: .*instanceTenancy is immutable/ }],
    },
    {
      kind: 'ElasticIP',
      plural: 'elasticips',
      create: { ...valid.ElasticIP, networkBorderGroup: 'us-east-1' },
      patches: [
        { what: 'added', patch: { spec: { publicIpv4Pool: 'ipv4pool-ec2-0abc' } }, error: /spec\.publicIpv4Pool: .*publicIpv4Pool is immutable/ },
        { what: 'removed', type: 'json', patch: [{ op: 'remove', path: '/spec/networkBorderGroup' }], error: /spec\.networkBorderGroup: .*networkBorderGroup is immutable/ },
      ],
    },
    {
      kind: 'NATGateway',
      plural: 'natgateways',
      create: valid.NATGateway,
      patches: [{ what: 'added', patch: { spec: { allocationID: 'eipalloc-0abc' } }, error: /spec\.allocationID: .*allocationID is immutable/ }],
    },
    {
      kind: 'RouteTable',
      plural: 'routetables',
      create: valid.RouteTable,
      patches: [{ what: 'swapped for its reference', patch: { spec: { vpcID: null, vpcRef: { name: 'app-vpc' } } }, error: /vpcRef is immutable/ }],
    },
    {
      kind: 'SecurityGroup',
      plural: 'securitygroups',
      create: valid.SecurityGroup,
      patches: [{ what: 'swapped for its reference', patch: { spec: { vpcID: null, vpcRef: { name: 'app-vpc' } } }, error: /vpcID is immutable/ }],
    },
    {
      kind: 'SQSQueue',
      plural: 'sqsqueues',
      create: { ...valid.SQSQueue, fifoQueue: false },
      patches: [{ what: 'removed', type: 'json', patch: [{ op: 'remove', path: '/spec/fifoQueue' }], error: /spec\.fifoQueue: .*fifoQueue is immutable/ }],
    },
  ];

  cases.forEach(({ kind, plural, create, patches }, index) => {
    const name = `immutable-${index}`;
    test(`${kind}: ${patches.map((p) => p.what).join(', ')}: refused; other edits still accepted`, async () => {
      await kubectl(['apply', '-f', '-'], manifest(kind, name, create));
      for (const { what, patch, type, error } of patches) {
        const answer = await kubectl(['patch', plural, name, `--type=${type ?? 'merge'}`, '-p', JSON.stringify(patch)]).then(
          () => null,
          (failure: { stderr?: string }) => String(failure.stderr),
        );
        assert.notEqual(answer, null, `${what}: accepted, but should have been refused`);
        assert.match(answer ?? '', error, what);
      }
      await kubectl(['patch', plural, name, '--type=merge', '-p', JSON.stringify({ spec: { tags: { edited: 'yes' } } })]);
      await kubectl(['delete', plural, name, '--wait=false']);
    });
  });
});
