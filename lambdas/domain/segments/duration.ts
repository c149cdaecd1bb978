/**
 * ISO-8601 durations of days, hours, minutes and seconds (`P90D`, `PT30M`, `P1DT12H`, `PT20S`):
 * the lengths of segment windows. Months and years have no fixed length, and weeks invite
 * confusion with calendar weeks, so they are refused.
 */
const DurationPattern = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Longest window a segment may use: about 10 years. */
export const MaxDurationMs = 3660 * 86_400_000;

/** The duration in milliseconds, or undefined when the text is not one we accept. */
export function parseDuration(text: string): number | undefined {
  const match = DurationPattern.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, days, hours, minutes, seconds] = match;
  const ms = Number(days ?? 0) * 86_400_000 + Number(hours ?? 0) * 3_600_000 + Number(minutes ?? 0) * 60_000 + Math.round(Number(seconds ?? 0) * 1000);
  return ms > 0 && ms <= MaxDurationMs ? ms : undefined;
}

export const DurationHint = 'must be an ISO-8601 duration of days, hours, minutes and seconds, like P30D, PT30M or P1DT12H';
