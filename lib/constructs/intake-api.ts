import { CfnStage, CorsHttpMethod, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Validations } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ProjectFunction } from './project-function.js';

export interface IntakeApiProps {
  readonly ingestFunction: ProjectFunction;
  /** Steady requests per second across the API before 429s. @default 2000 */
  readonly throttlingRateLimit?: number;
  /** @default 5000 */
  readonly throttlingBurstLimit?: number;
}

/** Call paths of Segment's HTTP Tracking API, plus the one-letter forms analytics.js uses. */
export const IntakePaths = ['batch', 'import', 'identify', 'track', 'page', 'screen', 'group', 'alias', 'b', 'i', 't', 'p', 's', 'g', 'a'];

/** The HTTP API in front of the ingest function: Segment-compatible routes, `/health`, access logs and throttling. */
export class IntakeApi extends Construct {
  readonly api: HttpApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: IntakeApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      description: 'CDP intake (Segment HTTP Tracking API compatible)',
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [CorsHttpMethod.POST, CorsHttpMethod.GET],
        allowHeaders: ['authorization', 'content-type', 'content-encoding'],
      },
    });
    const integration = new HttpLambdaIntegration('Ingest', props.ingestFunction.function);
    for (const path of IntakePaths) {
      this.api.addRoutes({ path: `/v1/${path}`, methods: [HttpMethod.POST], integration });
    }
    this.api.addRoutes({ path: '/health', methods: [HttpMethod.GET], integration });

    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    const stage = this.api.defaultStage!.node.defaultChild as CfnStage;
    stage.accessLogSettings = {
      destinationArn: this.accessLogs.logGroupArn,
      // No Authorization header or body: secrets and personal data stay out of the logs.
      format: JSON.stringify({
        requestId: '$context.requestId',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        bytes: '$context.responseLength',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
    stage.defaultRouteSettings = {
      throttlingRateLimit: props.throttlingRateLimit ?? 2000,
      throttlingBurstLimit: props.throttlingBurstLimit ?? 5000,
    };
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Intake routes authenticate the HTTP Basic write key inside the ingest function (hashed lookup, cached), exactly as Segment SDKs send it; an authorizer would add a Lambda invocation per cache miss for the same check. /health reveals only readiness.',
    });
  }
}
