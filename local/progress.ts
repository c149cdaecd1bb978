/** Progress of a long operation on stderr: a live line on a terminal, a line per 10% otherwise. */
export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number, elapsedMs: number) => void {
  let lastDecile = -1;
  return (done, total, elapsedMs) => {
    const share = total > 0 ? Math.min(1, done / total) : 1;
    const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
    const eta = rate > 0 ? Math.max(0, (total - done) / rate) : 0;
    const line = `${label}: ${(share * 100).toFixed(1)}% (${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}) ${Math.round(rate).toLocaleString('en-US')}/s, ETA ${formatDuration(eta)}`;
    if (stream.isTTY) {
      stream.write(`\r${line}${done >= total ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor(share * 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      stream.write(`${line}\n`);
    }
  };
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
