import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SaltSource } from '../../ports/privacy-salt.js';

/** The salt in a Secrets Manager secret the stack generates; read once per function instance, and only when needed. */
export class SecretsManagerSalt implements SaltSource {
  private value: Promise<string> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  salt(): Promise<string> {
    this.value ??= this.client.send(new GetSecretValueCommand({ SecretId: this.secretId })).then((result) => {
      if (!result.SecretString) throw new Error('the privacy salt secret has no value');
      return result.SecretString;
    });
    this.value.catch(() => (this.value = undefined));
    return this.value;
  }
}
