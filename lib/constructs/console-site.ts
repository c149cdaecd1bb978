import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type CfnBucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { DockerImage } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { buildConsole } from '../../console/build.js';

/** The console's Content-Security-Policy: its own script and style only, and calls to its own origin (the API is behind the same distribution). */
export const ConsoleContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface ConsoleSiteProps {
  /** The API the console calls. The distribution serves it under `/v1/*` on the console's own origin, so the browser makes no cross-origin call. */
  readonly api: HttpApi;
  /** Where the site bucket's server access logs go. */
  readonly accessLogsBucket: IBucket;
  /** Where the distribution's standard logs go. @default none: API calls through it are in the API's access log */
  readonly distributionLogsBucket?: IBucket;
}

/**
 * The web console in AWS (docs/console.md): its three files in a private bucket that only the
 * distribution can read (origin access control), served over HTTPS with security headers; and
 * the API on the same origin under `/v1/*`, uncached, with every header but Host passed on.
 */
export class ConsoleSite extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  /** `https://<distribution domain>/` */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'console/',
    });

    const securityHeaders = (contentSecurityPolicy?: string) => ({
      strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
      referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      ...(contentSecurityPolicy ? { contentSecurityPolicy: { contentSecurityPolicy, override: true } } : {}),
    });
    const pageHeaders = new ResponseHeadersPolicy(this, 'PageHeaders', { comment: 'CDP console: security headers', securityHeadersBehavior: securityHeaders(ConsoleContentSecurityPolicy) });
    const apiHeaders = new ResponseHeadersPolicy(this, 'ApiHeaders', { comment: 'CDP API through the console origin', securityHeadersBehavior: securityHeaders() });

    const apiDomain = `${props.api.apiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`;
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'CDP web console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: pageHeaders,
        compress: true,
      },
      additionalBehaviors: {
        // Uncached, so the Authorization header may be passed on; Host is not, or API Gateway would not know the request.
        '/v1/*': {
          origin: new HttpOrigin(apiDomain, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: apiHeaders,
        },
      },
      ...(props.distributionLogsBucket ? { enableLogging: true, logBucket: props.distributionLogsBucket, logFilePrefix: 'console-distribution/' } : {}),
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    // Built at synth by esbuild (console/build.ts), no Docker; a new build replaces the files and clears the cache.
    const deployment = new BucketDeployment(this, 'Deploy', {
      sources: [
        Source.asset(join(import.meta.dirname, '..', '..', 'console'), {
          bundling: {
            image: DockerImage.fromRegistry('scratch'),
            local: {
              tryBundle(outputDir: string): boolean {
                buildConsole(outputDir);
                return true;
              },
            },
          },
        }),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });

    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'The console is for the team operating the CDP, wherever they are; sign-in, not geography, decides who gets in.' },
      { id: 'AwsSolutions-CFR2', reason: 'Every API call needs an admin token or a write key and the API throttles; a WAF web ACL can be attached by the deployer (docs/deploy.md) where policy asks for one.' },
      { id: 'AwsSolutions-CFR3', reason: 'API calls through the distribution are logged by the API access log; the console files hold nothing personal. Pass distributionLogsBucket to log them too.' },
      { id: 'AwsSolutions-CFR4', reason: "The distribution uses CloudFront's default certificate, which cannot set a minimum TLS version; a custom domain with its own certificate (TLSv1.2_2021) is the deployer's choice (docs/deploy.md)." },
    );
    // The copy function is one per stack, beside this construct rather than inside it.
    const copier = Stack.of(this).node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
    const stack = Stack.of(this);
    const bucketId = stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    // The asset bucket's name carries the account and region as written when the stack names them (cdk synth with a profile), as tokens otherwise.
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const copies = [
      'Action::s3:GetBucket*', 'Action::s3:GetObject*', 'Action::s3:List*', 'Action::s3:Abort*', 'Action::s3:DeleteObject*',
      `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${account}-${region}/*`, `Resource::<${bucketId}.Arn>/*`, 'Resource::*',
    ];
    for (const scope of [deployment, ...(copier ? [copier] : [])]) {
      Validations.of(scope).acknowledge(
        ...copies.map((evidence) => ({
          id: `AwsSolutions-IAM5[${evidence}]`,
          reason: "CDK's BucketDeployment copies the console's files at deploy time: it reads the asset objects, writes and deletes keys of the console bucket only, and invalidates the distribution (CloudFront invalidation takes no narrower resource).",
        })),
      );
    }
  }
}
