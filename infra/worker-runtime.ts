/**
 * The worker process's Temporal runtime: the SDK's own logs (core, workflows, activities, with their
 * workflow and activity context) go into pino as JSON, and its metrics, with the business counters
 * of infra/worker-metrics.ts, to a Prometheus endpoint.
 */
import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

const SERVICE_WAIT_BUCKETS = [5, 10, 30, 60, 180, 300, 600, 1800, 3600, 21_600];

export function installWorkerRuntime(log: Logger, metrics: { host: string; port: number } | null): void {
  const level = (log.level.toUpperCase() === 'SILENT' ? 'ERROR' : log.level.toUpperCase()) as LogLevel;
  Runtime.install({
    logger: new DefaultLogger(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level) ? level : 'INFO', (entry) => {
      // Workflow and activity lines carry workflowId, runId, activityType… in meta; keep them as fields.
      const { sdkComponent, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
      log[PINO_LEVEL[entry.level]]({ ...meta, sdk: sdkComponent }, entry.message);
    }),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      ...(metrics
        ? {
            metrics: {
              prometheus: {
                bindAddress: `${metrics.host}:${metrics.port}`,
                countersTotalSuffix: true,
                useSecondsForDurations: true,
                // What buyers wait, in seconds: JD's 30 s and the 3 min share are bucket edges (docs/operations.md).
                histogramBucketOverrides: {
                  cs_first_response_seconds: SERVICE_WAIT_BUCKETS,
                  cs_queue_wait_seconds: SERVICE_WAIT_BUCKETS,
                },
              },
            },
          }
        : {}),
    },
  });
}
