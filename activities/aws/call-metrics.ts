/**
 * Counts every AWS request the SDK sends, per attempt (so the retries of a
 * throttled call count too, as AWS's rate limits see them), in
 * infra_operator_aws_calls_total by service, operation and outcome:
 * success, throttled, or error.
 */
import type { DeserializeMiddleware, HandlerExecutionContext, MiddlewareStack } from '@smithy/types';
import { awsCalls } from '../../process/metrics.js';
import { isThrottling } from './errors.js';

/** What an SDK v3 client has that this needs; typed loosely so any client's stack fits. */
interface WithMiddlewareStack {
  middlewareStack: Pick<MiddlewareStack<object, object>, 'add'>;
}

function hasMiddlewareStack(client: unknown): client is WithMiddlewareStack {
  if (typeof client !== 'object' || client === null || !('middlewareStack' in client)) return false;
  const stack = client.middlewareStack;
  return typeof stack === 'object' && stack !== null && 'add' in stack && typeof stack.add === 'function';
}

/** `S3Client`/`CreateBucketCommand` → `S3`/`CreateBucket`. */
export function callLabels(context: Pick<HandlerExecutionContext, 'clientName' | 'commandName'>): { service: string; operation: string } {
  return {
    service: (context.clientName ?? 'unknown').replace(/Client$/, ''),
    operation: (context.commandName ?? 'unknown').replace(/Command$/, ''),
  };
}

const NAME = 'infra-operator-call-metrics';

/**
 * In the deserialize step, outside the SDK's own deserializer (priority
 * high), so it sees each attempt's parsed error; the retry middleware is
 * in finalizeRequest, before it, and calls it once per attempt.
 */
const countAttempt: DeserializeMiddleware<object, object> = (next, context) => async (args) => {
  const labels = callLabels(context);
  try {
    const result = await next(args);
    awsCalls.inc({ ...labels, outcome: 'success' });
    return result;
  } catch (error) {
    awsCalls.inc({ ...labels, outcome: isThrottling(error) ? 'throttled' : 'error' });
    throw error;
  }
};

/** `client`, its requests counted; a client without a middleware stack (a test stub) is returned as it is. */
export function countAwsCalls<C>(client: C): C {
  if (hasMiddlewareStack(client)) client.middlewareStack.add(countAttempt, { step: 'deserialize', priority: 'high', name: NAME, override: true });
  return client;
}
