import type { DeliveryOutcome, DeliveryOutcomes } from '../../ports/event-bus.js';
import type { MetricsReader } from '../../ports/metrics-reader.js';

/** Delivery outcomes from the counters the local bus keeps per destination (local/local-bus.ts). */
export class CountedDeliveryOutcomes implements DeliveryOutcomes {
  constructor(private readonly metrics: MetricsReader) {}

  async outcomes(destinationIds: readonly string[], from: Date, to: Date): Promise<Record<string, DeliveryOutcome>> {
    const [delivered, failed, deadLettered] = await Promise.all(
      (['DestinationDeliveries', 'DestinationDeliveryFailures', 'DestinationDeadLetters'] as const).map((metric) => this.metrics.totalsBy(metric, 'destination', from, to)),
    );
    return Object.fromEntries(
      destinationIds.map((id) => [id, { delivered: delivered![id] ?? 0, failedAttempts: failed![id] ?? 0, deadLettered: deadLettered![id] ?? 0 }]),
    );
  }
}
