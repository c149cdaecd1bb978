/** The p-th percentile of ascending values (nearest rank, the value at or just above it); 0 for none. */
export const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
