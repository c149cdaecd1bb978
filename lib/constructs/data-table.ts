import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2, type StreamViewType } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { TableDefinition } from '../../lambdas/contracts.js';

export interface DataTableProps {
  readonly definition: TableDefinition;
  /** Refuse DeleteTable until this is turned off. @default true */
  readonly deletionProtection?: boolean;
  /** Encryption at rest. @default TableEncryptionV2.awsManagedKey() */
  readonly encryption?: TableEncryptionV2;
  /** A change stream of the table's items, kept 24 hours and encrypted like the table. @default none */
  readonly stream?: StreamViewType;
}

/**
 * A DynamoDB table, with the global secondary indexes its definition lists, and the project's
 * data defaults: on-demand billing, point-in-time recovery, encryption at rest, deletion
 * protection, and retained when the stack is deleted.
 */
export class DataTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string, props: DataTableProps) {
    super(scope, id);
    const { partitionKey, sortKey, indexes = [] } = props.definition;
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: partitionKey.name, type: AttributeType.STRING },
      ...(sortKey ? { sortKey: { name: sortKey.name, type: AttributeType.STRING } } : {}),
      globalSecondaryIndexes: indexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey.name, type: AttributeType.STRING },
        ...(index.sortKey ? { sortKey: { name: index.sortKey.name, type: AttributeType.STRING } } : {}),
        ...(index.projected
          ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...index.projected] }
          : { projectionType: ProjectionType.KEYS_ONLY }),
      })),
      billing: Billing.onDemand(),
      encryption: props.encryption ?? TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.stream ? { dynamoStream: props.stream } : {}),
    });
  }
}
