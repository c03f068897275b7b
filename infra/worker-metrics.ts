/**
 * Business counters of the worker, exported with the Temporal SDK's own metrics through the
 * runtime's Prometheus exporter (WORKER_METRICS_PORT). Labels never carry a shop or session id:
 * their number would grow without bound; logs carry those.
 */
import { Runtime, type InjectedSinks } from '@temporalio/worker';
import type { MetricCounter, MetricHistogram, MetricMeter } from '@temporalio/common';
import type { ServiceMetricsSinks, WaitMetric } from '../contracts/conversation';

interface Counters {
  sessionsOpened: MetricCounter;
  sessionsClosed: MetricCounter;
  sessionsRouted: MetricCounter;
  distributionRuns: MetricCounter;
  distributionAssigned: MetricCounter;
  outboxDelivered: MetricCounter;
  outboxRetried: MetricCounter;
  outboxDeadLettered: MetricCounter;
  webhookDeliveries: MetricCounter;
}

/**
 * Instruments made from the Temporal runtime's meter on first use, and made again when the runtime is a
 * new one: the SDK shuts an idle runtime down and starts another, whose meter the old instruments
 * no longer reach (a no-op meter where no exporter is set).
 */
function fromRuntimeMeter<T>(create: (meter: MetricMeter) => T): () => T {
  let made: { meter: MetricMeter; instruments: T } | undefined;
  return () => {
    const meter = Runtime.instance().metricMeter;
    if (made?.meter !== meter) made = { meter, instruments: create(meter) };
    return made.instruments;
  };
}

const counters = fromRuntimeMeter<Counters>((meter) => ({
  sessionsOpened: meter.createCounter('cs_sessions_opened', '', 'Sessions recorded with their settings snapshot'),
  sessionsClosed: meter.createCounter('cs_sessions_closed', '', 'Session closes, by reason'),
  sessionsRouted: meter.createCounter(
    'cs_sessions_routed',
    '',
    'Routing outcomes of sessions that want a human: assigned, queued, offline',
  ),
  distributionRuns: meter.createCounter('cs_distribution_runs', '', 'Distribution runs, by trigger and outcome'),
  distributionAssigned: meter.createCounter('cs_distribution_assigned', '', 'Offline messages assigned by distribution runs'),
  outboxDelivered: meter.createCounter('cs_outbox_delivered', '', 'Outbox rows delivered to Temporal'),
  outboxRetried: meter.createCounter('cs_outbox_retried', '', 'Outbox deliveries that failed and will be retried'),
  outboxDeadLettered: meter.createCounter('cs_outbox_dead_lettered', '', 'Outbox rows moved to the dead letter'),
  webhookDeliveries: meter.createCounter('cs_webhook_deliveries', '', 'Webhook delivery attempts, by outcome (ok, failed)'),
}));

export function workerMetrics(): Counters {
  return counters();
}

const waits = fromRuntimeMeter<Record<WaitMetric, MetricHistogram>>((meter) => ({
  first_response_seconds: meter.createHistogram('cs_first_response_seconds', 'float', 's', 'Agent first response after an assignment'),
  queue_wait_seconds: meter.createHistogram('cs_queue_wait_seconds', 'float', 's', 'Queue wait before an agent took the session'),
}));

/**
 * The runs' wait histograms (buckets: infra/worker-runtime.ts), labelled by task queue in snake_case.
 * Called from the sandbox through a sink, never during replay, so each observation counts once.
 */
export function serviceMetricsSinks(): InjectedSinks<ServiceMetricsSinks> {
  return {
    serviceMetrics: {
      observe: {
        fn: (info, metric, seconds) => {
          waits()[metric].record(seconds, { task_queue: info.taskQueue });
        },
        callDuringReplay: false,
      },
    },
  };
}
