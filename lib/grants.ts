import { Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';

/**
 * Least-privilege object access: exactly these S3 actions, under one key prefix. The prefix
 * wildcard is the narrowest S3 allows for objects written by key, so its nag finding is
 * acknowledged here with the prefix named.
 */
export function grantObjectAccess(fn: IFunction, bucket: Bucket, actions: string[], prefix: string): void {
  fn.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources: [bucket.arnForObjects(`${prefix}*`)] }));
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnBucket);
  Validations.of(fn).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`,
    reason: `Objects are addressed by generated keys under ${prefix}; access is limited to that prefix and to ${actions.join(', ')}.`,
  });
}

/** ListBucket limited to one prefix, so HeadObject on a missing key answers 404 rather than 403. */
export function grantPrefixListing(fn: IFunction, bucket: Bucket, prefix: string): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    }),
  );
}

/**
 * Exactly these DynamoDB actions on the table itself. TableV2's own grant adds every index
 * (`index/*`) once the table has one; a function that queries an index is granted that index by
 * name instead.
 */
export function grantTableItems(fn: IFunction, table: ITableV2, actions: string[], indexes: readonly string[] = []): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: actions.map((action) => `dynamodb:${action}`),
      resources: [table.tableArn, ...indexes.map((index) => `${table.tableArn}/index/${index}`)],
    }),
  );
}
