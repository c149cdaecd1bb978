import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpRoutes } from '../../lambdas/contracts.js';
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
      const expected = { profiles: /^ProfileApiFunction/, segments: /^SegmentApiFunction/ }[definition.handler as string] ?? /^IngestFunction/;
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
    // ingest, archiver, importer, resolver, admin authorizer, profile API, segment API, segmenter
    expect(Object.keys(functions).length).toBe(8);
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

  it('runs the segmentation function every minute, one instance at a time, never retried, with the due and outbox indexes and no other', () => {
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
    expect(indexes.map((r) => /\/index\/([a-z]+)/.exec(r)![1]).sort()).toEqual(['due', 'outbox']);
    const puts = statements.filter((st) => [st.Action].flat().includes('s3:PutObject')).map((st) => JSON.stringify(st.Resource));
    expect(puts.filter((r) => r.includes('/segment-changes/*'))).toHaveLength(1);
    expect(puts.join()).not.toContain('/events/*');
  });

  it('lets the segment API touch only the segment partition of the profiles table, never a profile', () => {
    const statements = policyStatementsOf('SegmentApiFunction').filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')));
    const onProfiles = statements.filter((st) => JSON.stringify(st.Resource).includes('Profiles'));
    expect(onProfiles.length).toBeGreaterThan(0);
    for (const st of onProfiles) expect(st.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['seg'] } });
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
