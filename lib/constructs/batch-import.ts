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
 * File suffixes that start an import. The `.result.json` written beside a file also matches
 * `.json`; the handler skips it (see isImportFile), at the cost of one short invocation.
 */
export const ImportSuffixes = ['.ndjson', '.jsonl', '.json', '.csv', '.ndjson.gz', '.jsonl.gz', '.json.gz', '.csv.gz'];

/** Runs the import function for every file dropped under `imports/`. */
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
    const destination = new LambdaDestination(this.function.function);
    for (const suffix of ImportSuffixes) {
      bucket.addEventNotification(EventType.OBJECT_CREATED, destination, { prefix: LakeLayout.importsPrefix, suffix });
    }
  }
}
