import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import S3rver from 's3rver';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { LocalEndpoints } from '../lambdas/composition.js';
import { listen } from './http-server.js';
import { repairS3rverStore } from './s3rver-repair.js';

export interface Emulators {
  readonly endpoints: LocalEndpoints;
  /** Where s3rver keeps each bucket's objects on disk (read directly by the local query engine). */
  readonly s3Directory: string;
  /** Objects whose unfinished, unacknowledged PUT a killed s3rver left behind, removed before it started. */
  readonly unfinishedObjectsRemoved: readonly string[];
  close(): Promise<void>;
}

/** Starts dynalite, kinesalite and s3rver in this process, persisting under `dataDir`, on free loopback ports. */
export async function startEmulators(dataDir: string): Promise<Emulators> {
  const dirs = { dynamodb: join(dataDir, 'dynamodb'), kinesis: join(dataDir, 'kinesis'), s3: join(dataDir, 's3') };
  await Promise.all(Object.values(dirs).map((dir) => mkdir(dir, { recursive: true })));
  const dynamo = dynalite({ path: dirs.dynamodb, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const kinesis = kinesalite({ path: dirs.kinesis, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  const dynamoPort = await listen(dynamo, 0, '127.0.0.1');
  const kinesisPort = await listen(kinesis, 0, '127.0.0.1');
  const unfinishedObjectsRemoved = await repairS3rverStore(dirs.s3);
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: dirs.s3, silent: true });
  const { port: s3Port } = await s3.run();
  return {
    endpoints: {
      dynamodb: `http://127.0.0.1:${dynamoPort}`,
      kinesis: `http://127.0.0.1:${kinesisPort}`,
      s3: `http://127.0.0.1:${s3Port}`,
    },
    s3Directory: dirs.s3,
    unfinishedObjectsRemoved,
    async close() {
      await Promise.allSettled([close(dynamo), close(kinesis), s3.close()]);
    },
  };
}

/** Stops listening and drops kept-alive client sockets, which would otherwise hold close() open. */
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
