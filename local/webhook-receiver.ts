import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got: its path, headers and the event it carried. */
export interface ReceivedDelivery {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly event: { readonly 'detail-type': string; readonly detail: { readonly eventId: string; readonly [field: string]: unknown }; readonly [field: string]: unknown };
  /** The status answered. */
  readonly status: number;
  readonly at: number;
}

export interface WebhookReceiverOptions {
  readonly port?: number;
  readonly host?: string;
  /** The status to answer a request with, by its path and how many requests that path has had before; 200 unless it says otherwise. */
  readonly answer?: (path: string, previous: number) => number;
  readonly onDelivery?: (delivery: ReceivedDelivery) => void;
  /** Milliseconds to wait before answering each request: a slow receiver. @default 0 */
  readonly delayMs?: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly deliveries: ReceivedDelivery[];
  /** Deliveries a path answered with 2xx. */
  accepted(path: string): ReceivedDelivery[];
  close(): Promise<void>;
}

/**
 * A webhook endpoint that keeps what it receives: for trying destinations locally
 * (`npm run receiver`) and for the activation tests, which make it fail on purpose.
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const deliveries: ReceivedDelivery[] = [];
  const seen = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const previous = seen.get(path) ?? 0;
      seen.set(path, previous + 1);
      const status = options.answer?.(path, previous) ?? 200;
      let event: ReceivedDelivery['event'];
      try {
        event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedDelivery['event'];
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"not JSON"}');
        return;
      }
      const delivery = { path, headers: request.headers, event, status, at: Date.now() };
      // Recorded on arrival: a receiver killed before it answers still saw the request.
      deliveries.push(delivery);
      const answer = (): void => {
        options.onDelivery?.(delivery);
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ received: status < 300 }));
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    deliveries,
    accepted: (path) => deliveries.filter((d) => d.path === path && d.status < 300),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
