import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

/** What a deployed function runs: its handler, and the Powertools logger and metrics it reports through. */
export interface LambdaWiring<E, R> {
  readonly handler: (event: E) => Promise<R>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Read once before the first event (the salt of hashed identifiers); tried again on the next event if it fails. */
  readonly prepare?: () => Promise<void>;
}

/**
 * A Lambda entry point. The handler and its dependencies are built on the first invocation, so
 * importing a handler module has no side effects (tests and the local runtime import them freely).
 * Powertools then does what its users expect: every log line carries the request id and cold
 * start (injectLambdaContext), and metrics are flushed after each invocation, with a ColdStart
 * metric (logMetrics).
 */
export function lambdaHandler<E, R>(wire: () => LambdaWiring<E, R>): (event: E, context: Context) => Promise<R> {
  let wrapped: ((event: E, context: Context) => Promise<R>) | undefined;
  return (event, context) => {
    if (!wrapped) {
      const { handler, logger, metrics, prepare } = wire();
      let prepared: Promise<void> | undefined;
      const ready = (): Promise<void> => {
        prepared ??= (prepare?.() ?? Promise.resolve()).catch((error: unknown) => {
          prepared = undefined;
          throw error;
        });
        return prepared;
      };
      wrapped = middy<E, R>(async (request: E) => {
        await ready();
        return handler(request);
      })
        .use(injectLambdaContext(logger))
        .use(logMetrics(metrics, { captureColdStartMetric: true }));
    }
    return wrapped(event, context);
  };
}
