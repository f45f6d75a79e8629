/**
 * A loopback STS for unit tests of credentials: it answers every AssumeRole
 * with credentials valid until 2099 (the n-th gets access key
 * ASIAASSUMED00000000n), and records each request's form parameters and
 * signing header.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSts {
  url: string;
  requests: Array<{ params: URLSearchParams; authorization: string }>;
  /** How many AssumeRole calls it answered. */
  assumeRoles(): number;
  close(): Promise<void>;
}

export async function fakeSts(): Promise<FakeSts> {
  const requests: FakeSts['requests'] = [];
  let count = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      requests.push({ params, authorization: request.headers.authorization ?? '' });
      if (params.get('Action') === 'AssumeRole') count++;
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIAASSUMED${String(count).padStart(9, '0')}</AccessKeyId>
      <SecretAccessKey>assumed-secret</SecretAccessKey>
      <SessionToken>assumed-token</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:infra-operator</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/r/infra-operator</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleResponse>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    assumeRoles: () => count,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
