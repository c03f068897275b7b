import type { ConnectionPlugin } from '@temporalio/client';

/**
 * The Java test server (grpc-java) tolerates client keepalive pings at most every 5 minutes and
 * answers more frequent ones with GOAWAY "too many pings". The SDK's client pings every 30 s, even
 * when idle; under load a dropped connection left time skipping locked and hung the suite. Ping
 * rarely, and only during calls.
 */
export const CALM_KEEPALIVE: ConnectionPlugin = {
  name: 'calm-keepalive-for-test-server',
  configureConnection: (options) => ({
    ...options,
    channelArgs: { ...options.channelArgs, 'grpc.keepalive_time_ms': 10 * 60_000, 'grpc.keepalive_permit_without_calls': 0 },
  }),
};
