import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface PrivacySaltProps {
  /** @default RemovalPolicy.RETAIN: the suppression list and receipts are only readable with it */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The secret salt of privacy hashes (docs/privacy.md): generated once at deploy, never shown,
 * read by the functions that match identifiers against the suppression list.
 */
export class PrivacySalt extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: PrivacySaltProps = {}) {
    super(scope, id);
    this.secret = new Secret(this, 'Salt', {
      description: 'Salt of the CDP privacy hashes (suppression list, receipts, audit log). Never rotate it: every stored hash would stop matching.',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The salt of stored hashes must not change: rotating it would make every suppression and receipt unmatchable, and suppressed people would be collected again.',
    });
  }

  grantRead(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
