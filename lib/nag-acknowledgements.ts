import { Validations, type Stack } from 'aws-cdk-lib';

/**
 * Findings that follow from deliberate, stack-wide choices. Each states why. Findings on one
 * resource are acknowledged next to that resource instead.
 */
export function acknowledgeLambdaDefaults(stack: Stack): void {
  Validations.of(stack).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The basic execution role only lets each function write its own logs; CDK attaches it to every function.',
  });
  Validations.of(stack).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'Functions are pinned to Node.js 22 on purpose: the runtime the project is built and tested for.',
  });
}
