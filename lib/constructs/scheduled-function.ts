import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type { HandlerName } from '../../lambdas/contracts.js';
import { ProjectFunction } from './project-function.js';

export interface ScheduledFunctionProps {
  /** File under `lambdas/handlers/`, without extension. */
  readonly handlerFile: HandlerName;
  readonly environment?: Record<string, string>;
  /** How often the function runs. */
  readonly every: Duration;
  /** Must exceed the work budget the handler sets itself, so a run ends before it is cut off. */
  readonly timeout: Duration;
  /**
   * At most this many runs at once. One keeps a long run from overlapping the next; correctness
   * does not depend on it (every write is conditional), so accounts whose concurrency quota
   * cannot spare a reservation may pass `undefined`. @default 1
   */
  readonly reservedConcurrency?: number | undefined;
}

/**
 * A project function that an EventBridge schedule invokes. A failed run is not retried: the next
 * scheduled run starts from the stored state and picks up whatever was left.
 */
export class ScheduledFunction extends Construct {
  readonly function: ProjectFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ScheduledFunctionProps) {
    super(scope, id);
    const reserved = 'reservedConcurrency' in props ? props.reservedConcurrency : 1;
    this.function = new ProjectFunction(this, 'Handler', {
      handlerFile: props.handlerFile,
      timeout: props.timeout,
      // A failed or throttled run is not worth repeating: the next scheduled one does its work.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
      ...(props.environment ? { environment: props.environment } : {}),
      ...(reserved === undefined ? {} : { reservedConcurrentExecutions: reserved }),
    });
    this.rule = new Rule(this, 'Schedule', {
      schedule: Schedule.rate(props.every),
      targets: [new LambdaFunction(this.function.function, { retryAttempts: 0 })],
    });
  }
}
