import { Aws, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { Catalog, IntakeLimits, LakeEventColumns, LakeLayout, LakeRejectionColumns } from '../../lambdas/contracts.js';
import { EventsViewSql } from '../../lambdas/domain/lake-views.js';

export interface LakeCatalogProps {
  readonly lakeBucket: IBucket;
  readonly queryResultsBucket: IBucket;
  /** @default 'cdp_lake' */
  readonly databaseName?: string;
  /** Queries scanning more than this are cancelled. @default 10 GiB */
  readonly bytesScannedCutoffPerQuery?: number;
}

/**
 * Glue tables over the lake with partition projection (no crawler), the `events` view that
 * keeps one row per messageId, and an Athena workgroup with its own results location and scan cutoff.
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

    const viewColumns = [...LakeEventColumns, 'dt'];
    const prestoView = {
      originalSql: EventsViewSql,
      catalog: 'awsdatacatalog',
      schema: this.databaseName,
      columns: viewColumns.map((name) => ({ name, type: 'varchar' })),
    };
    const view = new CfnTable(this, 'EventsView', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: Catalog.eventsView,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(prestoView)).toString('base64')} */`,
        viewExpandedText: '/* Presto View */',
        storageDescriptor: { columns: viewColumns.map((name) => ({ name, type: 'string' })) },
      },
    });
    view.addDependency(rawEvents);

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
