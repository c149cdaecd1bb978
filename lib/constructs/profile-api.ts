import { Duration } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Construct } from 'constructs';
import type { ProjectFunction } from './project-function.js';

export interface ProfileApiProps {
  /** The API the routes are added to (the intake API, so one host serves both). */
  readonly api: HttpApi;
  readonly profileFunction: ProjectFunction;
  /** Checks the admin Bearer token before the profile function runs. */
  readonly authorizerFunction: ProjectFunction;
  /** How long an authorizer decision is cached per token; bounds how late a revocation bites. @default Duration.minutes(1) */
  readonly authorizerCacheTtl?: Duration;
}

/** Admin routes of the profile API, each behind a Lambda authorizer separate from intake's write keys. */
export class ProfileApi extends Construct {
  readonly authorizer: HttpLambdaAuthorizer;

  constructor(scope: Construct, id: string, props: ProfileApiProps) {
    super(scope, id);
    this.authorizer = new HttpLambdaAuthorizer('AdminToken', props.authorizerFunction.function, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: props.authorizerCacheTtl ?? Duration.minutes(1),
    });
    const integration = new HttpLambdaIntegration('Profiles', props.profileFunction.function);
    const routes: Array<[string, HttpMethod]> = [
      ['/v1/profiles/{ref}', HttpMethod.GET],
      ['/v1/profiles/{ref}/events', HttpMethod.GET],
      ['/v1/profiles/{ref}/merges', HttpMethod.GET],
      ['/v1/profiles/{ref}/split', HttpMethod.POST],
    ];
    for (const [path, method] of routes) props.api.addRoutes({ path, methods: [method], integration, authorizer: this.authorizer });
  }
}
