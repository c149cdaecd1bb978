import { Duration } from 'aws-cdk-lib';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { EventType } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { LakeLayout } from '../../lambdas/contracts.js';
import { ProjectFunction, type ProjectFunctionProps } from './project-function.js';

export interface BatchImportProps extends Omit<ProjectFunctionProps, 'handlerFile'> {
  readonly bucket: Bucket;
}

/**
 * Runs the import function for every object created under `imports/`. S3's suffix filters are
 * case-sensitive, so there are none: the function imports what isImportFile accepts (`.csv`,
 * `.CSV`, `.ndjson.gz`, ...) and skips the rest, such as the `.result.json` it writes beside each
 * file, at the cost of one short invocation each.
 */
export class BatchImport extends Construct {
  readonly function: ProjectFunction;

  constructor(scope: Construct, id: string, props: BatchImportProps) {
    super(scope, id);
    const { bucket, ...functionProps } = props;
    this.function = new ProjectFunction(this, 'Handler', {
      handlerFile: 'importer',
      timeout: Duration.minutes(15),
      ...functionProps,
    });
    bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(this.function.function), { prefix: LakeLayout.importsPrefix });
  }
}
