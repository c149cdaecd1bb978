import type { AppLogger } from '../ports/logger.js';
import type { Telemetry } from '../ports/telemetry.js';

/** A logger that drops everything: for tests and tools whose output is their own report. */
export const silentLogger: AppLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Telemetry that counts nothing. */
export const noTelemetry: Telemetry = { count: () => undefined };
