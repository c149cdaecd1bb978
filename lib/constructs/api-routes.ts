import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, HttpRoute, HttpRouteKey, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Construct } from 'constructs';
import { HttpRoutes, UnmatchedRouteHandler, type HandlerName, type HttpRoute as RouteDefinition } from '../../lambdas/contracts.js';
import type { ProjectFunction } from './project-function.js';

export interface ApiRoutesProps {
  readonly api: HttpApi;
  /** The function behind each handler the route table names. */
  readonly functions: Partial<Record<HandlerName, ProjectFunction>>;
  /** Checks the admin Bearer token before any admin route's function runs. */
  readonly adminAuthorizer: ProjectFunction;
  /** How long an authorizer decision is cached per token; bounds how late a revocation bites. @default Duration.minutes(1) */
  readonly authorizerCacheTtl?: Duration;
  /** @default HttpRoutes from lambdas/contracts.ts */
  readonly routes?: readonly RouteDefinition[];
}

/**
 * The route table (lambdas/contracts.ts) on API Gateway: one `ANY` route per path, so the
 * function answers a wrong method with 405 exactly as it does locally; admin routes behind a
 * Lambda authorizer separate from intake's write keys; and a `$default` route, so an unknown path
 * gets the same JSON 404 as locally.
 */
export class ApiRoutes extends Construct {
  readonly authorizer: HttpLambdaAuthorizer;
  readonly routes: HttpRoute[] = [];

  constructor(scope: Construct, id: string, props: ApiRoutesProps) {
    super(scope, id);
    this.authorizer = new HttpLambdaAuthorizer('AdminToken', props.adminAuthorizer.function, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: props.authorizerCacheTtl ?? Duration.minutes(1),
    });
    const integrations = new Map<HandlerName, HttpLambdaIntegration>();
    const integration = (handler: HandlerName): HttpLambdaIntegration => {
      const fn = props.functions[handler];
      if (!fn) throw new Error(`the route table names the ${handler} function, but no such function was given`);
      let found = integrations.get(handler);
      if (!found) integrations.set(handler, (found = new HttpLambdaIntegration(handler, fn.function)));
      return found;
    };

    const byPath = new Map<string, RouteDefinition[]>();
    for (const route of props.routes ?? HttpRoutes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route]);
    for (const [path, sharing] of byPath) {
      const handlers = new Set(sharing.map((r) => r.handler));
      const auths = new Set(sharing.map((r) => r.auth));
      if (handlers.size > 1 || auths.size > 1) throw new Error(`every method of ${path} must have one function and one kind of auth`);
      const admin = auths.has('admin');
      this.routes.push(
        ...props.api.addRoutes({ path, methods: [HttpMethod.ANY], integration: integration(sharing[0]!.handler), ...(admin ? { authorizer: this.authorizer } : {}) }),
      );
    }
    this.routes.push(new HttpRoute(this, 'Default', { httpApi: props.api, routeKey: HttpRouteKey.DEFAULT, integration: integration(UnmatchedRouteHandler) }));

    // addRoutes puts routes under the API; the $default route is this construct's.
    for (const scope of [props.api, this]) {
      Validations.of(scope).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Intake routes authenticate the HTTP Basic write key inside the ingest function (hashed lookup, cached), exactly as Segment SDKs send it; an authorizer would add a Lambda invocation per cache miss for the same check. /health reveals only readiness, and the $default route only answers 404. Admin routes have the Lambda authorizer.',
      });
    }
  }
}
