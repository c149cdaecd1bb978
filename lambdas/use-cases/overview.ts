import type { MetricsReader } from '../ports/metrics-reader.js';

export interface Overview {
  readonly from: string;
  readonly to: string;
  /** One entry a minute, oldest first. */
  readonly perMinute: ReadonlyArray<{ readonly at: string; readonly accepted: number; readonly refused: number }>;
  /** Refused events in the window, by the field at fault. */
  readonly refusedByField: Readonly<Record<string, number>>;
  /** Activation events put on the bus for each destination, and refused by it, in the window. */
  readonly publishedByDestination: Readonly<Record<string, number>>;
  readonly refusedByDestination: Readonly<Record<string, number>>;
}

export class OverviewRangeError extends Error {
  constructor() {
    super('minutes must be an integer from 5 to 1440');
  }
}

/** The window of whole minutes, the current one included, that a read of the last `minutes` covers. */
export function minutesWindow(minutes: number, now: Date): { from: Date; to: Date } {
  if (!Number.isInteger(minutes) || minutes < 5 || minutes > 1440) throw new OverviewRangeError();
  const to = new Date((Math.floor(now.getTime() / 60_000) + 1) * 60_000);
  return { from: new Date(to.getTime() - minutes * 60_000), to };
}

/** What the console's overview shows of the last minutes: intake per minute, refusals by field, and publishing by destination. */
export class IntakeOverview {
  constructor(
    private readonly metrics: MetricsReader,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async read(minutes = 60): Promise<Overview> {
    const { from, to } = minutesWindow(minutes, this.now());
    const [series, refusedByField, publishedByDestination, refusedByDestination] = await Promise.all([
      this.metrics.perMinute(['EventsAccepted', 'EventsRejected'], from, to),
      this.metrics.totalsBy('EventsRejectedByField', 'field', from, to),
      this.metrics.totalsBy('DestinationEventsPublished', 'destination', from, to),
      this.metrics.totalsBy('ActivationEventsRefused', 'destination', from, to),
    ]);
    const perMinute = (series.EventsAccepted ?? []).map((accepted, i) => ({
      at: new Date(from.getTime() + i * 60_000).toISOString(),
      accepted,
      refused: series.EventsRejected?.[i] ?? 0,
    }));
    return { from: from.toISOString(), to: to.toISOString(), perMinute, refusedByField, publishedByDestination, refusedByDestination };
  }
}
