import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { CredentialsTableDefinition } from '../../lambdas/contracts.js';

export interface CredentialsTableProps {
  /** @default true */
  readonly deletionProtection?: boolean;
}

/** Write keys and admin tokens, stored as SHA-256 hashes. Same key schema as the local runtime's. */
export class CredentialsTable extends Construct {
  readonly table: TableV2;

  constructor(scope: Construct, id: string, props: CredentialsTableProps = {}) {
    super(scope, id);
    const key = CredentialsTableDefinition.partitionKey;
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: key.name, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
