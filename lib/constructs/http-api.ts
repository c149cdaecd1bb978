import { CfnStage, HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface CdpHttpApiProps {
  /** Steady requests per second across the API before 429s. @default 2000 */
  readonly throttlingRateLimit?: number;
  /** @default 5000 */
  readonly throttlingBurstLimit?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: RetentionDays;
}

/**
 * The one HTTP API every client talks to (SDKs, admin tools, the console through CloudFront),
 * access logs without secrets, and stage throttling. Routes are added by {@link ApiRoutes}.
 */
export class CdpHttpApi extends Construct {
  readonly api: HttpApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: CdpHttpApiProps = {}) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      description: 'CDP API: intake (Segment HTTP Tracking API compatible) and admin',
      // No API-wide CORS: intake answers any origin itself (IntakeCorsHeaders), while an admin route's preflight stops at the authorizer, so browsers reach admin routes only from the console's own origin.
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.accessLogRetention ?? RetentionDays.ONE_MONTH });
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
  }
}
