import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteNatState } from './slow-nat.js';

const answer = `<DescribeNatGatewaysResponse><natGatewaySet>
<item><natGatewayAddressSet><item><allocationId>eipalloc-1</allocationId></item></natGatewayAddressSet><natGatewayId>nat-1</natGatewayId><state>available</state></item>
<item><natGatewayId>nat-2</natGatewayId><state>available</state></item>
</natGatewaySet></DescribeNatGatewaysResponse>`;

test('slow NAT: only the named gateway reads pending', () => {
  const rewritten = rewriteNatState(answer, 'nat-2', 'available', 'pending');
  assert.match(rewritten, /<natGatewayId>nat-1<\/natGatewayId><state>available<\/state>/);
  assert.match(rewritten, /<natGatewayId>nat-2<\/natGatewayId><state>pending<\/state>/);
});

test('slow NAT: a gateway whose state is something else is left alone', () => {
  assert.equal(rewriteNatState(answer, 'nat-1', 'deleted', 'deleting'), answer);
  assert.equal(rewriteNatState(answer, 'nat-9', 'available', 'pending'), answer);
});
