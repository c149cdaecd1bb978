import { gzipSync } from 'node:zlib';

/** A lake object's body and headers: JSON lines, gzipped, as every table over the lake reads them. */
export function gzipNdjson(lines: readonly string[]): { body: Uint8Array; contentType: string; contentEncoding: string } {
  return { body: gzipSync(lines.join('\n') + '\n'), contentType: 'application/x-ndjson', contentEncoding: 'gzip' };
}
