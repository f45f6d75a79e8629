/**
 * A seeded fault injector for the AWS proxy: for the calls a test picks, it
 * answers a share of them as AWS does when it is busy or broken (throttling,
 * a 500, a connection reset) instead of forwarding them. The fates come from
 * a small PRNG with a fixed seed, so the sequence of fates is the same on
 * every run; which call meets which fate still depends on how concurrent
 * workflows interleave.
 *
 * Each error is shaped as its service's protocol sends it, so the SDK parses
 * it into the error name AWS would give (checked against
 * @aws-sdk/client-sqs, -ec2 and -s3 3.11xx):
 * - S3 (REST/XML): 503 `SlowDown`, 500 `InternalError`, as `<Error><Code>`;
 *   a HEAD gets the status only, as S3 answers HEAD.
 * - EC2 (query/XML): 503 `RequestLimitExceeded` (EC2's throttling answer
 *   is a 503), 500 `InternalError`, as `<Response><Errors><Error><Code>`.
 * - SQS over JSON 1.0 (`x-amz-target`, the SDK's protocol since 3.4xx): the
 *   query-compatible shape SQS sends, `x-amzn-query-error: Code;Sender`
 *   plus `{"__type": "com.amazonaws.sqs#Code"}`: 400 `RequestThrottled`,
 *   500 `InternalError`. The SDK takes the name from that header.
 * - SQS and every other service over query (`Action=`): `<ErrorResponse>`.
 * A reset reads the request and closes the socket without a word; AWS never
 * sees the call, so a retried create cannot make a second resource.
 */
import type { AwsProxy, Interception, ProxyCall } from './aws-proxy.js';

/** The share of matching calls that meet each fault; the rest reach AWS. */
export interface FaultMix {
  throttle: number;
  serverError: number;
  reset: number;
}

export const DEFAULT_FAULT_MIX: FaultMix = { throttle: 0.3, serverError: 0.05, reset: 0.02 };

/** What the injector did, for the test's output. */
export interface FaultTally {
  /** Matching calls seen. */
  seen: number;
  throttled: number;
  serverErrors: number;
  resets: number;
}

export interface FaultInjector {
  readonly tally: FaultTally;
  /** Stops injecting; calls reach AWS again. */
  remove(): void;
}

/** mulberry32: a tiny, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Fault = 'throttle' | 'serverError';

function xml(status: number, body: string): Interception {
  return { respond: { status, headers: { 'content-type': 'text/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}` } };
}

/** The answer AWS gives for `fault`, in the protocol `call` was made in. */
export function awsFault(call: ProxyCall, fault: Fault): Interception {
  const requestId = 'fault-injected-0000-0000-000000000000';
  if (call.service === 's3') {
    const [status, code, message] =
      fault === 'throttle' ? [503, 'SlowDown', 'Please reduce your request rate.'] : [500, 'InternalError', 'We encountered an internal error. Please try again.'];
    if (call.method === 'HEAD') return { respond: { status } };
    return xml(status, `<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`);
  }
  if (call.service === 'ec2') {
    const [status, code, message] =
      fault === 'throttle' ? [503, 'RequestLimitExceeded', 'Request limit exceeded.'] : [500, 'InternalError', 'An internal error has occurred.'];
    return xml(status, `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`);
  }
  const [status, code, type, message] =
    fault === 'throttle' ? [400, 'RequestThrottled', 'Sender', 'Rate exceeded'] : [500, 'InternalError', 'Receiver', 'We encountered an internal error. Please try again.'];
  // JSON protocols always send a body, at least "{}"; query bodies start with Action=.
  if (call.body.toString('utf8', 0, 1) === '{') {
    return {
      respond: {
        status,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${code};${type}`, 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: `com.amazonaws.${call.service}#${code}`, message }),
      },
    };
  }
  return xml(status, `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
}

/** Injects `mix` into the calls that `matches`, drawing fates from `seed`. */
export function injectFaults(
  proxy: AwsProxy,
  options: { seed: number; matches: (call: ProxyCall) => boolean; mix?: FaultMix },
): FaultInjector {
  const mix = options.mix ?? DEFAULT_FAULT_MIX;
  const random = seededRandom(options.seed);
  const tally: FaultTally = { seen: 0, throttled: 0, serverErrors: 0, resets: 0 };
  const remove = proxy.intercept((call) => {
    if (!options.matches(call)) return undefined;
    tally.seen++;
    const draw = random();
    if (draw < mix.throttle) {
      tally.throttled++;
      return awsFault(call, 'throttle');
    }
    if (draw < mix.throttle + mix.serverError) {
      tally.serverErrors++;
      return awsFault(call, 'serverError');
    }
    if (draw < mix.throttle + mix.serverError + mix.reset) {
      tally.resets++;
      return { reset: true };
    }
    return undefined;
  });
  return { tally, remove: () => void remove() };
}
