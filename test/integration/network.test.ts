/**
 * Networking on the real stack: the example network applied and deleted in
 * shuffled order, references, NAT gateway waits (made slow by the proxy,
 * since moto is instant), drift repair, and a crash right after CreateVpc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DeleteNatGatewayCommand,
  DeleteRouteCommand,
  DeleteTagsCommand,
  DescribeTagsCommand,
  DetachInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DescribeAddressesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifySubnetAttributeCommand,
  type Filter,
} from '@aws-sdk/client-ec2';
import { parseAllDocuments } from 'yaml';
import { kindDefinition } from '../../crds/index.js';
import { OWNER_TAG } from '../../contract/identity.js';
import { awsCredentials, providerName, readyCondition, startHarness, type CustomObject, type Harness } from '../support/harness.js';
import { slowNatGateways } from '../support/slow-nat.js';

const NAT_PENDING_MS = 6000;
let h: Harness;
let ec2: EC2Client;

before(async () => {
  h = await startHarness();
  slowNatGateways(h.proxy, { pendingMs: NAT_PENDING_MS, deletingMs: 4000 });
  ec2 = new EC2Client({
    region: awsCredentials.region,
    endpoint: h.stack.awsEndpoint,
    credentials: { accessKeyId: 'verifier', secretAccessKey: 'verifier' },
  });
});

after(async () => {
  await h?.teardown();
});

interface Manifest {
  kind: string;
  metadata: { name: string };
}

/** A deterministic shuffle, so a failing order can be replayed from the seed it prints. */
function shuffled<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let i = result.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}

const plural = (kind: string): string => kindDefinition(kind).plural;

const ownedBy = (value: string): Filter[] => [{ Name: `tag:${OWNER_TAG}`, Values: [value] }];
const anyOwner: Filter[] = [{ Name: 'tag-key', Values: [OWNER_TAG] }];

function matchesOwner(tags: Array<{ Key?: string; Value?: string }> | undefined, filters: Filter[]): boolean {
  const owner = tags?.find((tag) => tag.Key === OWNER_TAG)?.Value;
  const wanted = filters.find((filter) => filter.Name === `tag:${OWNER_TAG}`)?.Values;
  return owner !== undefined && (wanted === undefined || wanted.includes(owner));
}

/** Every AWS resource carrying an owner tag, per kind (deleted NAT gateways excluded). */
async function taggedResources(filters: Filter[] = anyOwner): Promise<Record<string, number>> {
  const [vpcs, subnets, igws, nats, tables, groups, addresses] = await Promise.all([
    ec2.send(new DescribeVpcsCommand({ Filters: filters })),
    ec2.send(new DescribeSubnetsCommand({ Filters: filters })),
    ec2.send(new DescribeInternetGatewaysCommand({ Filters: filters })),
    ec2.send(new DescribeNatGatewaysCommand({ Filter: filters })),
    ec2.send(new DescribeRouteTablesCommand({ Filters: filters })),
    ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters })),
    ec2.send(new DescribeAddressesCommand({ Filters: filters })),
  ]);
  return {
    VPC: vpcs.Vpcs?.length ?? 0,
    Subnet: subnets.Subnets?.length ?? 0,
    InternetGateway: igws.InternetGateways?.length ?? 0,
    // moto ignores tag filters on DescribeNatGateways: match the owner tag here.
    NATGateway: (nats.NatGateways ?? []).filter((nat) => nat.State !== 'deleted' && matchesOwner(nat.Tags, filters)).length,
    RouteTable: tables.RouteTables?.length ?? 0,
    SecurityGroup: groups.SecurityGroups?.length ?? 0,
    ElasticIP: addresses.Addresses?.length ?? 0,
  };
}

/** Status field that holds each kind's AWS ID. */
const idField: Record<string, string> = {
  VPC: 'vpcID',
  Subnet: 'subnetID',
  InternetGateway: 'internetGatewayID',
  NATGateway: 'natGatewayID',
  RouteTable: 'routeTableID',
  SecurityGroup: 'groupID',
  ElasticIP: 'allocationID',
};

/** The tags AWS holds for one resource ID, whatever its type. */
async function awsTags(resourceId: string): Promise<Record<string, string>> {
  const { Tags = [] } = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [resourceId] }] }));
  return Object.fromEntries(Tags.map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

async function ready(kind: string, name: string, timeoutMs = 60_000): Promise<CustomObject> {
  return h.until(`${kind}/${name} Ready`, async () => {
    const object = await h.get(plural(kind), name);
    return object?.status?.ready === true && object.status.observedGeneration === object.metadata.generation ? object : null;
  }, timeoutMs);
}

async function networkManifests(): Promise<Array<{ manifest: Manifest; text: string }>> {
  const text = await readFile(new URL('../../examples/network.yaml', import.meta.url), 'utf8');
  return parseAllDocuments(text).map((document) => ({ manifest: document.toJSON() as Manifest, text: document.toString() }));
}

const seed = Number(process.env.SHUFFLE_SEED ?? Date.now() % 100_000);

describe('networking on the real stack', () => {
  test("every manifest of ours in the earlier operator's guide is accepted unchanged by the API server", async () => {
    const output = await h.kubectl(['apply', '--dry-run=server', '-f', 'test/fixtures/guide-manifests.yaml']);
    const accepted = output.split('\n').filter((line) => /(created|configured|unchanged) \(server dry run\)/.test(line));
    assert.equal(accepted.length, 23, output);
  });

  test('the network example, applied in shuffled order, converges to Ready with its references wired', async () => {
    await h.until('provider Ready', async () => (await h.get('awsproviders', providerName))?.status?.ready === true);
    const documents = shuffled(await networkManifests(), seed);
    console.log(`apply order (SHUFFLE_SEED=${seed}): ${documents.map((d) => `${d.manifest.kind}/${d.manifest.metadata.name}`).join(', ')}`);
    const callsBefore = h.proxy.calls.length;
    const started = performance.now();
    await h.apply(documents.map((d) => d.text).join('\n---\n'));

    // While AWS "provisions" the NAT gateway: status shows AWS's state and no activity is held open.
    const natPending = async () => {
      const nat = await h.get('natgateways', 'nat-1a');
      return nat?.status?.state === 'pending' ? nat : null;
    };
    const pendingNat = await h.until('NAT gateway reported pending', natPending, 60_000);
    assert.equal(pendingNat.status?.ready, false);
    // A pass woken by a dependency's status change holds an observe activity for a
    // moment: what must be seen is a moment, inside the pending time, with
    // none open. An activity waiting out the NAT gateway would hold one all along.
    const natWorkflow = h.temporal.workflow.getHandle('NATGateway/default/nat-1a');
    await h.until('NAT workflow waiting on a durable timer, not in an activity, while the gateway is pending', async () => {
      const described = await natWorkflow.describe();
      return (described.raw.pendingActivities?.length ?? 0) === 0 && (await natPending()) !== null;
    });

    for (const { manifest } of documents) await ready(manifest.kind, manifest.metadata.name, 120_000);
    const elapsed = performance.now() - started;
    const ec2Calls = h.proxy.calls.slice(callsBefore).filter((call) => call.service === 'ec2').length;
    console.log(`network apply -> all Ready: ${elapsed.toFixed(0)} ms, ${ec2Calls} EC2 API calls (NAT pending for ${NAT_PENDING_MS} ms)`);

    const vpc = await h.get('vpcs', 'app-vpc');
    const nat = await h.get('natgateways', 'nat-1a');
    const web = await h.get('securitygroups', 'web');
    const app = await h.get('securitygroups', 'app');
    const privateRoutes = await h.get('routetables', 'private-routes');
    const tables = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [String(privateRoutes?.status?.routeTableID)] }));
    const defaultRoute = tables.RouteTables?.[0]?.Routes?.find((route) => route.DestinationCidrBlock === '0.0.0.0/0');
    assert.equal(defaultRoute?.NatGatewayId, nat?.status?.natGatewayID, 'private 0.0.0.0/0 goes to the NAT gateway');
    assert.equal(tables.RouteTables?.[0]?.Associations?.filter((a) => !a.Main).length, 2);
    const appGroup = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [String(app?.status?.groupID)] }));
    const sources = appGroup.SecurityGroups?.[0]?.IpPermissions?.flatMap((p) => p.UserIdGroupPairs ?? []).map((pair) => pair.GroupId);
    assert.deepEqual(sources, [web?.status?.groupID], 'the app group admits the web group');
    assert.equal(vpc?.status?.cidrBlock, '10.0.0.0/16');
    assert.deepEqual(await taggedResources(), {
      VPC: 1,
      Subnet: 4,
      InternetGateway: 1,
      NATGateway: 1,
      RouteTable: 2,
      SecurityGroup: 2,
      ElasticIP: 1,
    });
  });

  test('spec changes and changes made in AWS are both reconciled', async () => {
    const vpc = await h.get('vpcs', 'app-vpc');
    const vpcId = String(vpc?.status?.vpcID);
    await h.kubectl(['patch', 'vpc', 'app-vpc', '--type=merge', '-p', '{"spec":{"enableDnsHostnames":false}}']);
    await h.until('DNS hostnames off in AWS', async () => {
      const attribute = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' }));
      return attribute.EnableDnsHostnames?.Value === false;
    });

    const subnet = await h.get('subnets', 'public-1a');
    const subnetId = String(subnet?.status?.subnetID);
    await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: subnetId, MapPublicIpOnLaunch: { Value: false } }));
    await ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'added-by-hand', Value: 'x' }] }));
    const web = await h.get('securitygroups', 'web');
    const webId = String(web?.status?.groupID);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: webId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const publicRoutes = await h.get('routetables', 'public-routes');
    const publicTableId = String(publicRoutes?.status?.routeTableID);
    await ec2.send(new DeleteRouteCommand({ RouteTableId: publicTableId, DestinationCidrBlock: '0.0.0.0/0' }));

    await h.until('subnet mapPublicIpOnLaunch repaired', async () => {
      const subnets = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
      return subnets.Subnets?.[0]?.MapPublicIpOnLaunch === true;
    });
    await h.until('hand-added VPC tag removed', async () => {
      const vpcs = await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
      return !vpcs.Vpcs?.[0]?.Tags?.some((tag) => tag.Key === 'added-by-hand');
    });
    await h.until('hand-added ssh rule revoked', async () => {
      const groups = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [webId] }));
      return !groups.SecurityGroups?.[0]?.IpPermissions?.some((p) => p.FromPort === 22);
    });
    await h.until('deleted default route restored', async () => {
      const tables = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [publicTableId] }));
      return tables.RouteTables?.[0]?.Routes?.some((route) => route.DestinationCidrBlock === '0.0.0.0/0');
    });

    // Rules removed from and added to the spec.
    await h.kubectl([
      'patch', 'securitygroup', 'web', '--type=merge', '-p',
      '{"spec":{"ingressRules":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"cidrBlocks":["0.0.0.0/0"]},{"ipProtocol":"tcp","fromPort":8443,"toPort":8443,"cidrBlocks":["10.0.0.0/8"]}]}}',
    ]);
    await h.until('web rules follow the spec', async () => {
      const groups = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [webId] }));
      const ports = (groups.SecurityGroups?.[0]?.IpPermissions ?? []).map((p) => p.FromPort).sort();
      return JSON.stringify(ports) === JSON.stringify([443, 8443]);
    });
  });

  test('every kind takes tag changes from its spec and has tags changed in AWS put back', async () => {
    await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: ElasticIP
metadata: { name: spare-eip, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  domain: vpc
  tags: { Name: spare }
`);
    await ready('ElasticIP', 'spare-eip');
    const resources = [
      { kind: 'VPC', name: 'app-vpc' },
      { kind: 'Subnet', name: 'private-1a' },
      { kind: 'InternetGateway', name: 'app-igw' },
      { kind: 'NATGateway', name: 'nat-1a' },
      { kind: 'RouteTable', name: 'private-routes' },
      { kind: 'SecurityGroup', name: 'app' },
      { kind: 'ElasticIP', name: 'spare-eip' },
    ];
    const ids = new Map<string, string>();
    for (const { kind, name } of resources) {
      const object = await h.get(plural(kind), name);
      const id = String(object?.status?.[idField[kind]]);
      ids.set(kind, id);
      await h.kubectl(['patch', plural(kind), name, '--type=merge', '-p', '{"spec":{"tags":{"tier":"patched"}}}']);
    }
    for (const { kind } of resources) {
      const id = ids.get(kind) ?? '';
      await h.until(`${kind} ${id} tagged from the spec`, async () => (await awsTags(id)).tier === 'patched');
    }
    // Behind the operator's back: one tag removed, one changed, on every resource.
    const all = [...ids.values()];
    await ec2.send(new DeleteTagsCommand({ Resources: all, Tags: [{ Key: 'tier' }] }));
    await ec2.send(new CreateTagsCommand({ Resources: all, Tags: [{ Key: 'environment', Value: 'changed-by-hand' }] }));
    for (const { kind, name } of resources) {
      const id = ids.get(kind) ?? '';
      await h.until(`${kind} ${id} tags repaired`, async () => {
        const tags = await awsTags(id);
        return tags.tier === 'patched' && tags.environment === 'testing' && tags[OWNER_TAG] === `${kind}/default/${name}`;
      });
    }
  });

  test('a dependency re-created in AWS moves its dependents onto the new ID', async () => {
    const nat = await h.get('natgateways', 'nat-1a');
    const igw = await h.get('internetgateways', 'app-igw');
    const vpc = await h.get('vpcs', 'app-vpc');
    const oldNat = String(nat?.status?.natGatewayID);
    const oldIgw = String(igw?.status?.internetGatewayID);
    // Both removed behind the operator's back, straight at AWS.
    await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: oldNat }));
    await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: oldIgw, VpcId: String(vpc?.status?.vpcID) }));
    await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: oldIgw }));

    const newNat = await h.until('NAT gateway re-created', async () => {
      const id = (await h.get('natgateways', 'nat-1a'))?.status?.natGatewayID;
      return typeof id === 'string' && id !== oldNat ? id : null;
    }, 60_000);
    const newIgw = await h.until('internet gateway re-created', async () => {
      const id = (await h.get('internetgateways', 'app-igw'))?.status?.internetGatewayID;
      return typeof id === 'string' && id !== oldIgw ? id : null;
    }, 60_000);
    const defaultRoute = async (table: string) => {
      const id = String((await h.get('routetables', table))?.status?.routeTableID);
      const tables = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }));
      return tables.RouteTables?.[0]?.Routes?.find((route) => route.DestinationCidrBlock === '0.0.0.0/0');
    };
    await h.until('private default route follows the new NAT gateway', async () => (await defaultRoute('private-routes'))?.NatGatewayId === newNat, 60_000);
    await h.until('public default route follows the new internet gateway', async () => (await defaultRoute('public-routes'))?.GatewayId === newIgw, 60_000);
    await ready('RouteTable', 'private-routes');
    await ready('RouteTable', 'public-routes');
    const counts = await taggedResources(ownedBy('NATGateway/default/nat-1a'));
    assert.equal(counts.NATGateway, 1, 'one live NAT gateway');
    assert.equal(counts.ElasticIP, 1, 'its Elastic IP used again, not a second one allocated');
  });

  test('changing an immutable field is rejected at apply, naming the field', async () => {
    await assert.rejects(
      h.kubectl(['patch', 'vpc', 'app-vpc', '--type=merge', '-p', '{"spec":{"cidrBlock":"10.9.0.0/16"}}']),
      (error: { stderr?: string }) => /cidrBlock is immutable/.test(String(error.stderr)),
    );
    await assert.rejects(
      h.kubectl(['patch', 'subnet', 'public-1a', '--type=merge', '-p', '{"spec":{"availabilityZone":"us-east-1c"}}']),
      (error: { stderr?: string }) => /availabilityZone is immutable/.test(String(error.stderr)),
    );
  });

  test('a reference to a resource that does not exist waits with a clear reason, then proceeds as soon as it is Ready', async () => {
    await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: Subnet
metadata: { name: early-subnet, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  vpcRef: { name: later-vpc }
  cidrBlock: "10.20.1.0/24"
  availabilityZone: us-east-1a
`);
    const waiting = await h.until('subnet waiting for its VPC', async () => {
      const subnet = await h.get('subnets', 'early-subnet');
      return subnet?.status?.phase === 'Waiting' ? subnet : null;
    });
    assert.match(readyCondition(waiting)?.message ?? '', /VPC default\/later-vpc/);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: VPC
metadata: { name: later-vpc, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  cidrBlock: "10.20.0.0/16"
`);
    await ready('VPC', 'later-vpc');
    const vpcReady = performance.now();
    await ready('Subnet', 'early-subnet', 15_000);
    console.log(`dependency Ready -> dependent Ready: ${(performance.now() - vpcReady).toFixed(0)} ms`);
  });

  const crashCases = [
    { kind: 'VPC', name: 'crash-vpc', operation: 'CreateVpc', spec: 'cidrBlock: "10.30.0.0/16"' },
    {
      kind: 'Subnet',
      name: 'crash-subnet',
      operation: 'CreateSubnet',
      spec: 'vpcRef: { name: app-vpc }\n  cidrBlock: "10.0.50.0/24"\n  availabilityZone: us-east-1a',
    },
    { kind: 'NATGateway', name: 'crash-nat', operation: 'CreateNatGateway', spec: 'subnetRef: { name: public-1a }\n  connectivityType: public' },
  ];
  for (const { kind, name, operation, spec } of crashCases) {
    test(`a worker killed between ${operation} and recording the ID leaves exactly one ${kind}`, async () => {
      const owner = `${kind}/default/${name}`;
      const crash = h.crashWorkerAfter((call) => call.operation === operation && decodeURIComponent(call.body.toString()).includes(owner));
      try {
        await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: ${kind}
metadata: { name: ${name}, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  ${spec}
`);
        await h.until(`worker killed right after ${operation}`, async () => crash.killed());
        assert.equal((await taggedResources(ownedBy(owner)))[kind], 1, `AWS made the ${kind} before the crash`);
        await h.operator.start(['worker']);
        await ready(kind, name, 90_000);
      } finally {
        crash.remove();
      }
      const counts = await taggedResources(ownedBy(owner));
      assert.equal(counts[kind], 1);
      if (kind === 'NATGateway') assert.equal(counts.ElasticIP, 1, 'one Elastic IP allocated, not one per attempt');
    });
  }

  test('a worker restart while a NAT gateway is pending loses nothing', async () => {
    await h.apply(`
apiVersion: aws-infra-operator.runner.codes/v1alpha1
kind: NATGateway
metadata: { name: nat-restart, namespace: default }
spec:
  providerRef: { name: ${providerName} }
  subnetRef: { name: public-1b }
  connectivityType: public
`);
    await h.until('NAT pending', async () => (await h.get('natgateways', 'nat-restart'))?.status?.state === 'pending');
    await h.operator.kill('worker');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await h.operator.start(['worker']);
    await ready('NATGateway', 'nat-restart', 90_000);
    assert.equal((await taggedResources(ownedBy('NATGateway/default/nat-restart'))).NATGateway, 1);
    assert.equal((await taggedResources(ownedBy('NATGateway/default/nat-restart'))).ElasticIP, 1);
  });

  test('deleting everything, in shuffled order, leaves nothing in AWS', async () => {
    const extras = [
      { kind: 'Subnet', name: 'early-subnet' },
      { kind: 'VPC', name: 'later-vpc' },
      { kind: 'VPC', name: 'crash-vpc' },
      { kind: 'Subnet', name: 'crash-subnet' },
      { kind: 'NATGateway', name: 'crash-nat' },
      { kind: 'NATGateway', name: 'nat-restart' },
      { kind: 'ElasticIP', name: 'spare-eip' },
    ];
    const all = [...(await networkManifests()).map((d) => ({ kind: d.manifest.kind, name: d.manifest.metadata.name })), ...extras];
    const order = shuffled(all, seed + 1);
    console.log(`delete order: ${order.map((o) => `${o.kind}/${o.name}`).join(', ')}`);
    const callsBefore = h.proxy.calls.length;
    const started = performance.now();
    for (const { kind, name } of order) await h.kubectl(['delete', plural(kind), name, '--wait=false']);
    for (const { kind, name } of order) {
      await h.until(`${kind}/${name} gone`, async () => (await h.get(plural(kind), name)) === null, 180_000);
    }
    const elapsed = performance.now() - started;
    const ec2Calls = h.proxy.calls.slice(callsBefore).filter((call) => call.service === 'ec2').length;
    console.log(`network delete -> nothing left: ${elapsed.toFixed(0)} ms, ${ec2Calls} EC2 API calls`);
    assert.deepEqual(await taggedResources(), {
      VPC: 0,
      Subnet: 0,
      InternetGateway: 0,
      NATGateway: 0,
      RouteTable: 0,
      SecurityGroup: 0,
      ElasticIP: 0,
    });
  });
});
