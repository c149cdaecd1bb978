import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The credential chain every deployed function bundles in place of the SDK's default one
 * (`@aws-sdk/credential-provider-node`, swapped by an esbuild alias in `BundleSettings`). Lambda
 * always puts the function role's credentials in the environment, and the default chain reads
 * them from there first; its other sources (SSO, profiles, STS web identity, the container and
 * instance metadata services) only add about 100 KB to every bundle and to every cold start.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]): ReturnType<typeof fromEnv> => fromEnv(init);
