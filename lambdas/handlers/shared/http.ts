import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** A Lambda behind API Gateway's HTTP API (payload format 2.0). */
export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** The error body every route answers with: a message and, where one field is at fault, which and why. */
export const errorBody = (message: string, field?: string): { error: string; details: Array<{ field: string; reason: string }> } => ({
  error: message,
  details: field ? [{ field, reason: message }] : [],
});

/** Request headers, lower-cased as API Gateway HTTP APIs deliver them. */
export function header(headers: Record<string, string | undefined> | undefined, name: string): string | undefined {
  return headers?.[name] ?? headers?.[name.toLowerCase()];
}

/** The request body as bytes, whether API Gateway delivered it as text or base64. */
export function bodyBytes(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  return Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
}

/** A request's JSON body; one that is not JSON throws the API's own error, from `refuse`. */
export function jsonBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, refuse: () => Error): unknown {
  try {
    return JSON.parse(bodyBytes(event).toString('utf8'));
  } catch {
    throw refuse();
  }
}
