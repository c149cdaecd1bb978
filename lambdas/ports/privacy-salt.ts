/** The deployment's secret salt for privacy hashes (lambdas/domain/privacy.ts): Secrets Manager in AWS, a private file locally. */
export interface SaltSource {
  salt(): Promise<string>;
}

/** Where an access export can be fetched: a short-lived presigned S3 link in AWS, the API's own admin route locally. */
export interface ExportLinks {
  link(requestId: string, key: string): Promise<{ readonly url: string; readonly expiresAt?: string }>;
}
