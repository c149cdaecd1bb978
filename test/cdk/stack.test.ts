import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorsAllowedHeaders, HttpRoutes, IntakeCorsHeaders, OutboxIndex } from '../../lambdas/contracts.js';
import { destinationResourceName, parseDestinationsFile } from '../../lambdas/domain/destinations.js';
import { EventsViewSql, IdentitiesViewSql, SegmentMembersViewSql } from '../../lambdas/domain/lake-views.js';
import { queryLocalLake } from '../../local/lake-sql.js';
import { CdpStack } from '../../lib/cdp-stack.js';
import { trinoProblems } from '../helpers/athena-sql.js';
import { cdkApp } from '../helpers/cdk.js';

interface GlueTable {
  readonly TableInput: {
    readonly Name: string;
    readonly ViewOriginalText?: string;
    readonly StorageDescriptor: { readonly Columns: Array<{ Name: string; Type: string }> };
  };
}

interface RouteProperties {
  readonly RouteKey: string;
  readonly AuthorizationType?: string;
  readonly Target: { 'Fn::Join': [string, [string, { Ref: string }]] };
}

function synthesize(props = {}) {
  const app = cdkApp();
  const stack = new CdpStack(app, 'Test', props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

interface Statement {
  readonly Effect?: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

describe('CdpStack', () => {
  const { app, stack } = synthesize();
  const template = Template.fromStack(stack);
  const policyStatementsOf = (functionPrefix: string): Statement[] =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(functionPrefix))
      .flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement);

  it('passes cdk-nag AwsSolutions with every finding fixed or acknowledged with a reason', () => {
    expect(() => app.synth()).not.toThrow();
  });

  it('configures no API-wide CORS: intake answers any origin itself, and admin routes none', () => {
    const [api] = Object.values(template.findResources('AWS::ApiGatewayV2::Api'));
    expect((api!.Properties as { CorsConfiguration?: unknown }).CorsConfiguration).toBeUndefined();
    expect(IntakeCorsHeaders['access-control-allow-headers']!.split(',').sort()).toEqual([...CorsAllowedHeaders].sort());
  });

  it('deploys the route table: one ANY route per path to its function, admin paths behind the authorizer, and a $default route', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as RouteProperties);
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    const functionOf = (route: RouteProperties): string => {
      const integrationId = route.Target['Fn::Join'][1][1].Ref;
      const uri = (integrations[integrationId]!.Properties as { IntegrationUri: { 'Fn::GetAtt': [string, string] } }).IntegrationUri;
      return uri['Fn::GetAtt'][0];
    };
    const paths = [...new Set(HttpRoutes.map((r) => r.path))];
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([...paths.map((p) => `ANY ${p}`), '$default'].sort());
    for (const path of paths) {
      const definition = HttpRoutes.find((r) => r.path === path)!;
      const route = routes.find((r) => r.RouteKey === `ANY ${path}`)!;
      const expected = { profiles: /^ProfileApiFunction/, segments: /^SegmentApiFunction/, destinations: /^DestinationApiFunction/, privacy: /^PrivacyApiFunction/, sources: /^SourceApiFunction/ }[definition.handler as string] ?? /^IngestFunction/;
      expect(functionOf(route), path).toMatch(expected);
      expect(route.AuthorizationType ?? 'NONE', path).toBe(definition.auth === 'admin' ? 'CUSTOM' : 'NONE');
    }
    expect(functionOf(routes.find((r) => r.RouteKey === '$default')!)).toMatch(/^IngestFunction/);
  });

  it('notifies the importer of every object under imports/, whatever the case of its extension', () => {
    const [notifications] = Object.values(template.findResources('Custom::S3BucketNotifications'));
    const configurations = (notifications!.Properties as { NotificationConfiguration: { LambdaFunctionConfigurations: Array<{ Filter: unknown }> } })
      .NotificationConfiguration.LambdaFunctionConfigurations;
    expect(configurations.map((c) => c.Filter)).toEqual([{ Key: { FilterRules: [{ Name: 'prefix', Value: 'imports/' }] } }]);
  });

  it.each([
    ['events', EventsViewSql],
    ['identities', IdentitiesViewSql],
    ['segment_members', SegmentMembersViewSql],
  ])('describes the %s view to Athena exactly as the view DuckDB runs locally: its SQL, columns, order and types', async (name, sql) => {
    const [view] = Object.values(template.findResources('AWS::Glue::Table')).filter((t) => (t.Properties as GlueTable).TableInput.Name === name);
    const input = (view!.Properties as GlueTable).TableInput;
    expect(input).toMatchObject({ TableType: 'VIRTUAL_VIEW', Parameters: { presto_view: 'true' }, ViewExpandedText: '/* Presto View */' });
    const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(input.ViewOriginalText!)?.[1];
    expect(encoded).toBeDefined();
    const presto = JSON.parse(Buffer.from(encoded!, 'base64').toString('utf8')) as { originalSql: string; catalog: string; schema: unknown; columns: Array<{ name: string; type: string }> };
    expect(presto.originalSql).toBe(sql);
    expect(presto.catalog).toBe('awsdatacatalog');
    expect(trinoProblems(sql)).toEqual([]);
    // The columns the same SQL yields on DuckDB, over the lake's tables as the local engine defines them.
    const local = await queryLocalLake({ s3Directory: mkdtempSync(join(tmpdir(), 'cdp-view-')), bucket: 'lake' }, `DESCRIBE ${name}`);
    const expected = local.map((c) => ({ name: String(c.column_name), type: String(c.column_type).toLowerCase() }));
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(presto.columns).toEqual(expected);
    expect(input.StorageDescriptor.Columns).toEqual(expected.map(({ name }) => ({ Name: name, Type: 'string' })));
  });

  it('encrypts the stream and keeps the lake private, versioned, TLS-only and with lifecycle rules', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', { StreamEncryption: { EncryptionType: 'KMS' }, ShardCount: 1 });
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'raw-events' })]) },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('runs the archiver with bisect, partial batch responses, bounded retries and an on-failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 5,
      MaximumBatchingWindowInSeconds: 60,
      BatchSize: 10000,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('uses Node.js 22 on arm64 with JSON logs for every function', () => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ CDP_STREAM_NAME: Match.anyValue() }) } },
    });
    // ingest, archiver, importer, resolver, admin authorizer, profile API, segment API, segmenter, publisher, destination API, privacy API, privacy worker
    expect(Object.keys(functions).length).toBe(13);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], LoggingConfig: { LogFormat: 'JSON' } });
    }
  });

  it('catalogs the lake with partition projection, the deduplicating events view and a capped workgroup', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({ Name: 'raw_events', Parameters: Match.objectLike({ 'projection.enabled': 'true', 'projection.dt.type': 'date' }) }),
    });
    template.hasResourceProperties('AWS::Glue::Table', { TableInput: Match.objectLike({ Name: 'events', TableType: 'VIRTUAL_VIEW' }) });
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({ EnforceWorkGroupConfiguration: true, BytesScannedCutoffPerQuery: 10 * 1024 ** 3 }),
    });
  });

  it('keeps credentials and profiles in on-demand, encrypted, point-in-time-recoverable, deletion-protected tables', () => {
    const tables = template.findResources('AWS::DynamoDB::GlobalTable');
    expect(Object.keys(tables)).toHaveLength(2);
    for (const table of Object.values(tables)) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        Replicas: [expect.objectContaining({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      });
    }
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      // The outbox feed: a sparse index of profiles holding undelivered changes.
      GlobalSecondaryIndexes: [
        {
          IndexName: 'outbox',
          KeySchema: [{ AttributeName: 'ob', KeyType: 'HASH' }, { AttributeName: 'pk', KeyType: 'RANGE' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: 'due',
          KeySchema: [{ AttributeName: 'db', KeyType: 'HASH' }, { AttributeName: 'dt', KeyType: 'RANGE' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });

  it('runs the resolver on its own event source mapping with bisect, partial responses and an on-failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 5,
      MaximumBatchingWindowInSeconds: 2,
      BatchSize: 1000,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('lets the profile API write split records under identity/splits/ and nowhere else in the lake', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes('ProfileApiFunction'));
    const puts = policies.flatMap((p) => (p.Properties as { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } }).PolicyDocument.Statement)
      .filter((st) => [st.Action].flat().includes('s3:PutObject'));
    const resources = JSON.stringify(puts.map((st) => st.Resource));
    expect(resources).toContain('/identity/splits/*');
    expect(resources).not.toContain('/events/*');
  });

  it('runs the segmentation function every minute, one instance at a time, never retried, with the due index and no other', () => {
    const [segmenterId, segmenter] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('SegmenterHandlerFunction'))!;
    expect(segmenter.Properties).toMatchObject({ Timeout: 60, ReservedConcurrentExecutions: 1, MemorySize: 1024 });
    const properties = segmenter.Properties as { Environment: { Variables: Record<string, unknown> } };
    expect(Object.keys(properties.Environment.Variables)).toEqual(expect.arrayContaining(['CDP_ATHENA_WORKGROUP', 'CDP_PROFILES_TABLE', 'CDP_LAKE_BUCKET']));
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [segmenterId, 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: segmenterId }, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });

    const statements = policyStatementsOf('SegmenterHandlerFunction');
    const indexes = statements.flatMap((st) => [st.Resource].flat()).map((r) => JSON.stringify(r)).filter((r) => r.includes('/index/'));
    expect(indexes.map((r) => /\/index\/([a-z]+)/.exec(r)![1]).sort()).toEqual(['due']);
    // Membership changes reach the lake through the publisher, not the segmenter.
    const puts = statements.filter((st) => [st.Action].flat().includes('s3:PutObject')).map((st) => JSON.stringify(st.Resource));
    expect(puts.filter((r) => r.includes('/segment-changes/*') || r.includes('/events/*'))).toEqual([]);
  });

  it('lets the segment API touch only the segment partition of the profiles table, never a profile', () => {
    const statements = policyStatementsOf('SegmentApiFunction').filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')));
    const onProfiles = statements.filter((st) => JSON.stringify(st.Resource).includes('Profiles'));
    expect(onProfiles.length).toBeGreaterThan(0);
    for (const st of onProfiles) expect(st.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['seg'] } });
  });

  it('lets intake, the consumers and the importer read only the suppression list of the profiles table, and the salt', () => {
    for (const fn of ['IngestFunction', 'ArchiverHandlerFunction', 'ImportHandlerFunction']) {
      const onProfiles = policyStatementsOf(fn).filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')) && JSON.stringify(st.Resource).includes('Profiles'));
      expect(onProfiles.map((st) => [st.Action, st.Condition]), fn).toEqual([['dynamodb:Query', { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['sup'] } }]]);
      expect(policyStatementsOf(fn).some((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue') && JSON.stringify(st.Resource).includes('PrivacySalt')), fn).toBe(true);
    }
    // Only the functions that may read the salt are told where it is: the rest never try (identifiers stored hashed, docs/privacy.md).
    const saltReaders = Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => Object.hasOwn((fn.Properties as { Environment?: { Variables?: object } }).Environment?.Variables ?? {}, 'CDP_PRIVACY_SALT_SECRET'))
      .map(([id]) => id.replace(/Function[0-9A-F]{8}$/, '').replace(/HandlerFunction$/, ''));
    expect(saltReaders.sort()).toEqual(['ArchiverHandler', 'ImportHandler', 'Ingest', 'PrivacyApi', 'PrivacyWorkerHandler', 'ProfileApi', 'ResolverHandler']);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ PasswordLength: 48 }) });
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  });

  it('lets the privacy API touch only privacy requests, and the worker delete every version of what it erases', () => {
    const api = policyStatementsOf('PrivacyApiFunction');
    const onProfiles = api.filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')) && JSON.stringify(st.Resource).includes('Profiles'));
    expect(onProfiles.map((st) => [[st.Action].flat(), st.Condition])).toEqual([
      [['dynamodb:GetItem', 'dynamodb:PutItem'], { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['prq', 'prq#open'] } }],
      // Listing requests, newest first.
      [['dynamodb:Query'], { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['prq'] } }],
    ]);
    expect(api.flatMap((st) => [st.Action].flat()).filter((a) => a.startsWith('s3:'))).toEqual(['s3:PutObject', 's3:GetObject']);
    const worker = policyStatementsOf('PrivacyWorkerHandlerFunction').flatMap((st) => [st.Action].flat());
    expect(worker).toEqual(expect.arrayContaining(['s3:DeleteObjectVersion', 's3:ListBucketVersions', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'events:PutEvents', 'dynamodb:DeleteItem']));
    // The audit log is append-only, even for the worker.
    const denied = policyStatementsOf('PrivacyWorkerHandlerFunction').filter((st) => st.Effect === 'Deny');
    expect(denied.map((st) => [st.Action, JSON.stringify(st.Resource).includes('privacy/audit/*')])).toEqual([[['s3:DeleteObject', 's3:DeleteObjectVersion'], true]]);
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'privacy-exports', Prefix: 'privacy/exports/', ExpirationInDays: 7 })]) },
    });
  });

  it('lets the destination API put test events on the bus and consume its dead-letter queues', () => {
    const statements = policyStatementsOf('DestinationApiFunction').filter((st) => [st.Action].flat().includes('events:PutEvents'));
    expect(statements).toHaveLength(1);
    expect(JSON.stringify(statements[0]!.Resource)).toContain('ActivationBus');
    // And read its dead letters back to count and redrive them.
    const consume = policyStatementsOf('DestinationApiFunction').filter((st) => [st.Action].flat().includes('sqs:ReceiveMessage'));
    expect(JSON.stringify(consume)).toContain('RuntimeDeadLetters');
    // And the rules' delivery metrics, nothing else of CloudWatch.
    const actions = policyStatementsOf('DestinationApiFunction').flatMap((st) => [st.Action].flat());
    expect(actions.filter((a) => a.startsWith('cloudwatch:'))).toEqual(['cloudwatch:GetMetricData']);
  });

  it('lets the source API read the stream and the refusals, and write only credentials', () => {
    const actions = policyStatementsOf('SourceApiFunction').flatMap((st) => [st.Action].flat());
    expect(actions.filter((a) => a.startsWith('kinesis:')).sort()).toEqual(['kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards']);
    const s3 = policyStatementsOf('SourceApiFunction').filter((st) => [st.Action].flat().some((a) => a.startsWith('s3:')));
    expect(s3.map((st) => [st.Action, JSON.stringify(st).includes('rejected/')])).toEqual([['s3:GetObject', true], ['s3:ListBucket', true]]);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:UpdateItem']);
    // The overview reads counters only.
    expect(actions.filter((a) => a.startsWith('cloudwatch:')).sort()).toEqual(['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics']);
  });

  it('serves the console from a private bucket through CloudFront only, over HTTPS with security headers, and the API on its origin under /v1/*', () => {
    const [bucketId] = Object.entries(template.findResources('AWS::S3::Bucket')).find(([id]) => id.startsWith('ConsoleFiles'))!;
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'console/' }),
    });
    // Only the distribution may read it (origin access control), and only over TLS.
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p) => JSON.stringify((p.Properties as { Bucket: unknown }).Bucket) === JSON.stringify({ Ref: bucketId }))!;
    const statements = (policy.Properties as { PolicyDocument: { Statement: Array<{ Effect: string; Principal?: unknown; Condition?: unknown }> } }).PolicyDocument.Statement;
    expect(statements.filter((st) => st.Effect === 'Allow').map((st) => st.Principal)).toEqual([{ Service: 'cloudfront.amazonaws.com' }]);
    expect(JSON.stringify(statements.find((st) => st.Effect === 'Allow')!.Condition)).toContain('AWS:SourceArn');
    expect(JSON.stringify(statements)).toContain('aws:SecureTransport');

    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0]!.Properties as { DistributionConfig: { DefaultRootObject: string; DefaultCacheBehavior: { ViewerProtocolPolicy: string }; CacheBehaviors: Array<Record<string, unknown>> } };
    expect(distribution.DistributionConfig.DefaultRootObject).toBe('index.html');
    expect(distribution.DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    const api = distribution.DistributionConfig.CacheBehaviors.find((b) => b.PathPattern === '/v1/*')!;
    expect(api).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: expect.arrayContaining(['POST', 'PUT', 'DELETE', 'OPTIONS']),
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // CachingDisabled: the Authorization header may be passed on
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // AllViewerExceptHostHeader
    });
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: { ContentSecurityPolicy: Match.stringLikeRegexp("default-src 'self'.*connect-src 'self'.*frame-ancestors 'none'"), Override: true },
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 31536000, IncludeSubdomains: true }),
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ContentTypeOptions: { Override: true },
        }),
      }),
    });
    template.hasOutput('ConsoleUrl', Match.anyValue());
    expect(Template.fromStack(synthesize({ webConsole: false }).stack).findResources('AWS::CloudFront::Distribution')).toEqual({});
  });

  it('catalogs the identity log and segment changes with partition projection, for the identities and segment_members views', () => {
    for (const [name, prefix] of [['identity_log', 'identities/'], ['segment_changes', 'segment-changes/']]) {
      template.hasResourceProperties('AWS::Glue::Table', {
        TableInput: Match.objectLike({
          Name: name,
          Parameters: Match.objectLike({ 'projection.enabled': 'true', 'storage.location.template': Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`/${prefix}dt=\${dt}/`])] }) }),
        }),
      });
    }
  });

  it('reserves no concurrency for the segmenter when asked, for accounts with a small quota', () => {
    const fns = Template.fromStack(synthesize({ segmenterReservedConcurrency: 0 }).stack).findResources('AWS::Lambda::Function');
    const [, segmenter] = Object.entries(fns).find(([id]) => id.startsWith('SegmenterHandlerFunction'))!;
    expect((segmenter.Properties as { ReservedConcurrentExecutions?: number }).ReservedConcurrentExecutions).toBeUndefined();
  });

  it('has one admin-token Lambda authorizer, separate from intake', () => {
    const authorizers = template.findResources('AWS::ApiGatewayV2::Authorizer');
    expect(Object.values(authorizers).map((a) => a.Properties as object)).toEqual([
      expect.objectContaining({ AuthorizerType: 'REQUEST', EnableSimpleResponses: true, IdentitySource: ['$request.header.Authorization'] }),
    ]);
  });

  it('alarms, each with a runbook entry, on iterator age, dead letters, function errors and throttles, API 5xx and table throttles', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const names = Object.keys(alarms).map((id) => id.replace(/^Operations/, '').replace(/[A-F0-9]{8}$/, ''));
    for (const expected of [
      'ArchiverIteratorAge', 'ResolverIteratorAge', 'ArchiverDeadLetterQueue', 'ResolverDeadLetterQueue', 'ResolverDeadLetters',
      'IngestErrors', 'IngestThrottles', 'ResolverErrors', 'ProfileApiErrors', 'SegmentApiErrors', 'SegmenterErrors', 'SegmentBackfillFailures', 'ApiServerErrors', 'ProfilesTableThrottles', 'CredentialsTableThrottles',
      'PublisherErrors', 'DestinationApiErrors', 'ActivationChangesRetained', 'DestinationDeadLettersapimanaged',
    ]) {
      expect(names).toContain(expected);
    }
    const runbook = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    for (const alarm of Object.values(alarms) as Array<{ Properties: { AlarmDescription: string; AlarmActions: unknown[] } }>) {
      const anchor = /docs\/operations\.md#([a-z0-9-]+)/.exec(alarm.Properties.AlarmDescription)?.[1];
      expect(anchor, alarm.Properties.AlarmDescription).toBeDefined();
      expect(runbook.toLowerCase(), `runbook entry for ${anchor}`).toContain(`<a id="${anchor}"></a>`);
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 300_000, EvaluationPeriods: 5 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RecordsDeadLettered', Namespace: 'Cdp' });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('publishes on a custom bus with an archive, the publisher allowed to put events on that bus only', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::Archive', { EventPattern: { source: ['cdp'] }, RetentionDays: 30 });
    const puts = policyStatementsOf('PublisherHandlerFunction').filter((st) => [st.Action].flat().includes('events:PutEvents'));
    expect(puts).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ActivationBus/), 'Arn'] } })]);
    const indexes = policyStatementsOf('PublisherHandlerFunction').flatMap((st) => [st.Resource].flat()).map((r) => JSON.stringify(r)).filter((r) => r.includes('/index/'));
    expect(indexes.map((r) => /\/index\/([a-z]+)/.exec(r)![1])).toEqual(['outbox']);
  });

  it('invokes the publisher from the profile table stream only for items carrying an outbox, besides its schedule', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).map((r) => r.Properties as Record<string, unknown>);
    const doorbell = mappings.filter((m) => JSON.stringify(m.FunctionName).includes('PublisherHandlerFunction'));
    expect(doorbell).toHaveLength(1);
    expect(doorbell[0]).toMatchObject({ StartingPosition: 'LATEST', MaximumRetryAttempts: 0 });
    const filters = (doorbell[0]!.FilterCriteria as { Filters: Array<{ Pattern: string }> }).Filters.map((f) => JSON.parse(f.Pattern) as unknown);
    expect(filters).toEqual([{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { [OutboxIndex.bucketAttribute]: { S: [{ exists: true }] } } } }]);
    // Its role reads the profile table's stream and no other.
    const streamReads = policyStatementsOf('PublisherHandlerFunction').filter((st) => [st.Action].flat().includes('dynamodb:GetRecords'));
    expect(JSON.stringify(streamReads.map((st) => st.Resource))).toMatch(/ProfilesTable.*StreamArn/);
  });

  it('lets the destination API route only under its own prefix, and touch only the destination partition', () => {
    const statements = policyStatementsOf('DestinationApiFunction');
    const onProfiles = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')) && JSON.stringify(st.Resource).includes('Profiles'));
    expect(onProfiles.map((st) => st.Condition)).toEqual([{ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['dst'] } }]);
    // Routing under its prefix; putting (test) events on the bus is the one other events: action.
    const events = statements.filter((st) => [st.Action].flat().some((a) => (a.startsWith('events:') && a !== 'events:PutEvents') || a.startsWith('secretsmanager:')));
    expect(events.length).toBe(4);
    for (const st of events) expect(JSON.stringify(st.Resource)).toMatch(/cdp[a-z0-9]{8}-\*/);
    expect(statements.filter((st) => [st.Action].flat().includes('iam:PassRole'))).toHaveLength(1);
  });

  describe('with destinations declared in a file', () => {
    const declared = synthesize({ destinations: parseDestinationsFile(JSON.parse(readFileSync('test/fixtures/destinations.json', 'utf8')), { allowLoopbackHttp: false }) });
    const t = Template.fromStack(declared.stack);

    it('stays clean under cdk-nag', () => {
      // Also with the account and region named, as `cdk synth` names them from the caller's profile.
      expect(() => synthesize({ env: { account: '123456789012', region: 'eu-west-1' } }).app.synth()).not.toThrow();
      expect(() => declared.app.synth()).not.toThrow();
    });

    it('deploys one rule per destination with its pattern narrowed to its own events, and a target with retries and its own dead-letter queue', () => {
      const rules = Object.values(t.findResources('AWS::Events::Rule')).map((r) => r.Properties as { EventPattern?: Record<string, unknown>; Targets: Array<Record<string, unknown>> }).filter((r) => r.EventPattern);
      // Each rule: the destination's own pattern narrowed to its events, or its test events.
      const own = rules.map((r) => {
        const [narrowed, test] = r.EventPattern!.$or as Array<Record<string, unknown>>;
        expect(test).toEqual({ source: ['cdp'], 'detail-type': ['CDP Test Event'], detail: { destinationId: (narrowed!.detail as { destinationId: string[] }).destinationId } });
        return narrowed;
      });
      expect(own.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
        { 'detail-type': ['Profile Merged'], source: ['cdp'], detail: { destinationId: ['merges'] } },
        { 'detail-type': ['Segment Entered'], detail: { segmentId: [{ prefix: 'churn-' }], destinationId: ['support-queue'] }, source: ['cdp'] },
        { 'detail-type': ['Segment Entered', 'Segment Exited'], detail: { segmentId: ['vip'], destinationId: ['crm'] }, source: ['cdp'] },
      ].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
      for (const rule of rules) {
        expect(rule.Targets).toEqual([expect.objectContaining({ RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 }, DeadLetterConfig: { Arn: expect.anything() } })]);
      }
      const queues = new Set(rules.map((r) => JSON.stringify((r.Targets[0]!.DeadLetterConfig as { Arn: unknown }).Arn)));
      expect(queues.size).toBe(3);
      // Named as the destination API names its rules, so the rules' metrics lead back to the destination.
      const names = rules.map((r) => (r as { Name?: string }).Name ?? '').sort();
      const prefix = names[0]!.slice(0, names[0]!.indexOf('-'));
      expect(prefix).toMatch(/^cdp[a-z0-9]{1,8}$/);
      expect(names).toEqual(['crm', 'merges', 'support-queue'].map((id) => destinationResourceName(prefix, id)));
    });

    it('calls the webhook through an API destination whose connection takes its key from Secrets Manager', () => {
      t.hasResourceProperties('AWS::Events::ApiDestination', { HttpMethod: 'POST', InvocationEndpoint: 'https://hooks.example.com/cdp' });
      t.hasResourceProperties('AWS::Events::Connection', {
        AuthorizationType: 'API_KEY',
        AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-api-key', ApiKeyValue: '{{resolve:secretsmanager:cdp/crm:SecretString:key}}' } },
      });
    });

    it('alarms on every dead-letter queue, each pointing at the runbook', () => {
      const alarms = Object.keys(t.findResources('AWS::CloudWatch::Alarm')).filter((id) => id.includes('DestinationDeadLetters'));
      expect(alarms.map((id) => id.replace(/^Operations/, '').replace(/[A-F0-9]{8}$/, '')).sort()).toEqual([
        'DestinationDeadLettersapimanaged', 'DestinationDeadLetterscrm', 'DestinationDeadLettersmerges', 'DestinationDeadLetterssupportqueue',
      ]);
    });

    it('refuses a plain secret in the file, and plain http', () => {
      const secret = parseDestinationsFile({ destinations: { crm: { type: 'webhook', url: 'https://x.example.com', auth: { type: 'api_key', header: 'k', value: 'plain' }, pattern: { source: ['cdp'] } } } }, { allowLoopbackHttp: false });
      expect(() => synthesize({ destinations: secret })).toThrow(/Secrets Manager reference/);
      expect(() => parseDestinationsFile({ destinations: { crm: { type: 'webhook', url: 'http://127.0.0.1:9/x', pattern: { source: ['cdp'] } } } }, { allowLoopbackHttp: false })).toThrow(/must use https/);
    });
  });

  it('emails alarms when given an address', () => {
    const { stack: withEmail } = synthesize({ alarmEmail: 'ops@example.com' });
    Template.fromStack(withEmail).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('refuses an invalid profile configuration at synth time', () => {
    expect(() => synthesize({ profileConfig: { limits: { user_id: 0 } } })).toThrow(/limits\.user_id/);
    expect(() => synthesize({ profileConfig: { phoneRegion: 'XX' } })).toThrow(/phoneRegion XX is not a country/);
  });

  it('switches the stream to on-demand when asked', () => {
    const onDemand = Template.fromStack(synthesize({ streamCapacity: 'on-demand' }).stack);
    onDemand.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
  });
});
