import { Aws, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { Catalog, IntakeLimits, LakeEventColumns, LakeIdentityColumns, LakeLayout, LakeRejectionColumns, LakeSegmentChangeColumns } from '../../lambdas/contracts.js';
import { EventsViewSql, IdentitiesViewSql, SegmentMembersViewSql } from '../../lambdas/domain/lake-views.js';

export interface LakeCatalogProps {
  readonly lakeBucket: IBucket;
  readonly queryResultsBucket: IBucket;
  /** @default 'cdp_lake' */
  readonly databaseName?: string;
  /** Queries scanning more than this are cancelled. @default 10 GiB */
  readonly bytesScannedCutoffPerQuery?: number;
}

/**
 * Glue tables over the lake with partition projection (no crawler); the views that analysts and
 * segments query (`events`: one row per messageId; `identities`: each identifier's profile now;
 * `segment_members`: each segment's members now); and an Athena workgroup with its own results
 * location and scan cutoff.
 */
export class LakeCatalog extends Construct {
  readonly databaseName: string;
  readonly workGroup: CfnWorkGroup;

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    this.databaseName = props.databaseName ?? 'cdp_lake';
    const database = new CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'Customer Data Platform raw event lake' },
    });
    const jsonTable = (tableId: string, name: string, prefix: string, columns: readonly string[]): CfnTable => {
      const table = new CfnTable(this, tableId, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: this.databaseName,
        tableInput: {
          name,
          tableType: 'EXTERNAL_TABLE',
          partitionKeys: [{ name: 'dt', type: 'string' }],
          parameters: {
            classification: 'json',
            compressionType: 'gzip',
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': 'yyyy-MM-dd',
            'projection.dt.range': `${IntakeLimits.earliestTimestamp.slice(0, 10)},NOW+1DAYS`,
            'projection.dt.interval': '1',
            'projection.dt.interval.unit': 'DAYS',
            'storage.location.template': `s3://${props.lakeBucket.bucketName}/${prefix}dt=\${dt}/`,
          },
          storageDescriptor: {
            location: `s3://${props.lakeBucket.bucketName}/${prefix}`,
            columns: columns.map((column) => ({ name: column, type: 'string' })),
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: {
              serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
              parameters: { 'ignore.malformed.json': 'true' },
            },
          },
        },
      });
      table.addDependency(database);
      return table;
    };
    const rawEvents = jsonTable('RawEvents', Catalog.rawEventsTable, LakeLayout.eventsPrefix, LakeEventColumns);
    jsonTable('Rejections', Catalog.rejectionsTable, LakeLayout.rejectionsPrefix, LakeRejectionColumns);
    const identityLog = jsonTable('IdentityLog', Catalog.identityLogTable, LakeLayout.identitiesPrefix, LakeIdentityColumns);
    const segmentChanges = jsonTable('SegmentChanges', Catalog.segmentChangesTable, LakeLayout.segmentChangesPrefix, LakeSegmentChangeColumns);

    // Athena reads a view's SQL and columns from a base64 "Presto View" document in the Glue table.
    const prestoView = (viewId: string, name: string, sql: string, columns: readonly string[], over: CfnTable): CfnTable => {
      const document = { originalSql: sql, catalog: 'awsdatacatalog', schema: this.databaseName, columns: columns.map((column) => ({ name: column, type: 'varchar' })) };
      const view = new CfnTable(this, viewId, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: this.databaseName,
        tableInput: {
          name,
          tableType: 'VIRTUAL_VIEW',
          parameters: { presto_view: 'true', comment: 'Presto View' },
          viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(document)).toString('base64')} */`,
          viewExpandedText: '/* Presto View */',
          storageDescriptor: { columns: columns.map((column) => ({ name: column, type: 'string' })) },
        },
      });
      view.addDependency(over);
      return view;
    };
    prestoView('EventsView', Catalog.eventsView, EventsViewSql, [...LakeEventColumns, 'dt'], rawEvents);
    prestoView('IdentitiesView', Catalog.identitiesView, IdentitiesViewSql, LakeIdentityColumns, identityLog);
    prestoView('SegmentMembersView', Catalog.segmentMembersView, SegmentMembersViewSql, ['segment_id', 'profile_id', 'since'], segmentChanges);

    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: `${Stack.of(this).stackName}-lake`,
      description: 'Queries over the CDP lake',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${props.queryResultsBucket.bucketName}/${LakeLayout.athenaResultsPrefix}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }
}
