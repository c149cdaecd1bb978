/**
 * What analytics.js (Segment's browser SDK) fetches from `${cdnURL}/v1/projects/{writeKey}/settings`
 * before it sends anything: where to send events. Pointing `cdnURL` at the CDP is enough for an
 * unmodified analytics.js to send here (docs/sdks.md). Only the `Segment.io` integration is
 * listed: device-mode destinations are not loaded in the browser; activation happens server-side.
 */
export interface AnalyticsJsSettingsInput {
  readonly writeKey: string;
  /** The API's host and the path analytics.js appends its one-letter paths to, e.g. `cdp.example.com/v1`. */
  readonly apiHost: string;
  readonly protocol: 'http' | 'https';
}

export function analyticsJsSettings(input: AnalyticsJsSettingsInput): Record<string, unknown> {
  return {
    integrations: {
      'Segment.io': { apiKey: input.writeKey, apiHost: input.apiHost, protocol: input.protocol, unbundledIntegrations: [], addBundledMetadata: true },
    },
    plan: { track: { __default: { enabled: true, integrations: {} } }, identify: { __default: { enabled: true } }, group: { __default: { enabled: true } } },
    enabledMiddleware: {},
    metrics: { sampleRate: 0 },
    remotePlugins: [],
  };
}

/** The API's own address as the request reached it: the host, and the scheme a proxy in front of it reports. */
export function apiHostOf(headers: { host?: string; forwardedHost?: string; forwardedProto?: string }): { apiHost: string; protocol: 'http' | 'https' } | undefined {
  const host = (headers.forwardedHost ?? headers.host ?? '').split(',')[0]!.trim();
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) return undefined;
  const protocol = (headers.forwardedProto ?? '').split(',')[0]!.trim() === 'https' ? 'https' : 'http';
  return { apiHost: `${host}/v1`, protocol };
}

/**
 * What RudderStack's JavaScript SDK fetches from its `configUrl` (`/sourceConfig`) before it
 * sends anything: its source, enabled, with no device-mode destinations and the SDK's own error
 * and metrics reporting to RudderStack off.
 */
export function rudderStackSourceConfig(source: { readonly id: string; readonly name: string }): Record<string, unknown> {
  return {
    source: {
      id: source.id,
      name: source.name,
      workspaceId: 'cdp',
      enabled: true,
      config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
      destinations: [],
    },
  };
}
