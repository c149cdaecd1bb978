import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** Request headers, lower-cased as API Gateway HTTP APIs deliver them. */
export function header(headers: Record<string, string | undefined> | undefined, name: string): string | undefined {
  return headers?.[name] ?? headers?.[name.toLowerCase()];
}
