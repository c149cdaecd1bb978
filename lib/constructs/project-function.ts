import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { FunctionMemoryMb, type HandlerName } from '../../lambdas/contracts.js';

const root = join(import.meta.dirname, '..', '..');

/** How every handler is bundled; the benchmark builds the same bundles to measure them. */
export const BundleSettings = {
  minify: true,
  target: 'node22',
  format: 'cjs',
  // The packages' ES module builds, which esbuild can tree-shake, as it cannot their CommonJS
  // ones: the AWS SDK's shrink by about 270 KB in every bundle.
  mainFields: ['module', 'main'],
  // Credentials from the environment only (lambdas/adapters/aws/environment-credentials.ts): about 100 KB less.
  alias: { '@aws-sdk/credential-provider-node': join(root, 'lambdas', 'adapters', 'aws', 'environment-credentials.ts') },
} as const;

export interface ProjectFunctionProps extends Omit<NodejsFunctionProps, 'entry' | 'handler'> {
  /** File under `lambdas/handlers/`, without extension, e.g. `ingest`. Sets the default memory size. */
  readonly handlerFile: HandlerName;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * Every Lambda of the project: Node.js 22 on arm64, JSON logs into a log group with retention,
 * minified esbuild bundles built locally (no Docker), the AWS SDK bundled so its version is pinned.
 */
export class ProjectFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ProjectFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const { handlerFile, logRetention: _ignored, environment, bundling, ...rest } = props;
    this.function = new NodejsFunction(this, 'Function', {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: FunctionMemoryMb[props.handlerFile],
      timeout: Duration.seconds(30),
      loggingFormat: LoggingFormat.JSON,
      logGroup: this.logGroup,
      projectRoot: root,
      depsLockFilePath: join(root, 'package-lock.json'),
      entry: join(root, 'lambdas', 'handlers', `${handlerFile}.ts`),
      handler: 'handler',
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `cdp-${handlerFile}`,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...environment,
      },
      bundling: {
        minify: BundleSettings.minify,
        sourceMap: false,
        target: BundleSettings.target,
        format: OutputFormat.CJS,
        mainFields: [...BundleSettings.mainFields],
        esbuildArgs: Object.fromEntries(Object.entries(BundleSettings.alias).map(([from, to]) => [`--alias:${from}`, to])),
        forceDockerBundling: false,
        externalModules: [],
        ...bundling,
      },
      ...rest,
    });
  }
}
