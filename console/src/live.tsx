/**
 * Live updates: one Server-Sent Events stream per tab (GET …/events/stream, with the key in a
 * header, which EventSource cannot send — hence fetch-event-source). Pages subscribe to event types
 * and reload their data when one arrives; nothing polls.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { fetchEventSource } from '@microsoft/fetch-event-source';
import type { ShopEvent } from './session';

type Listener = (e: ShopEvent) => void;

interface LiveHub {
  subscribe: (listener: Listener) => () => void;
  connected: boolean;
}

const LiveContext = createContext<LiveHub>({ subscribe: () => () => undefined, connected: false });

class RetryLater extends Error {}
class Fatal extends Error {}

export function LiveProvider({ shopId, apiKey, children }: { shopId: string; apiKey: string; children: ReactNode }) {
  const listeners = useRef(new Set<Listener>());
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    void fetchEventSource(`/v1/shops/${encodeURIComponent(shopId)}/events/stream?maxSeconds=900`, {
      headers: { authorization: `Bearer ${apiKey}` },
      signal: abort.signal,
      openWhenHidden: true,
      async onopen(res) {
        if (res.ok && res.headers.get('content-type')?.startsWith('text/event-stream')) {
          setConnected(true);
          return;
        }
        if (res.status === 401 || res.status === 403) throw new Fatal(`stream refused: ${res.status}`);
        throw new RetryLater(`stream answered ${res.status}`);
      },
      onmessage(msg) {
        if (!msg.data) return;
        const event = JSON.parse(msg.data) as ShopEvent;
        for (const l of listeners.current) l(event);
      },
      // The server ends a stream after maxSeconds: reconnect, resuming from Last-Event-ID.
      onclose() {
        setConnected(false);
        throw new RetryLater('stream closed');
      },
      onerror(err) {
        setConnected(false);
        if (err instanceof Fatal) throw err;
        return 2000;
      },
    }).catch(() => setConnected(false));
    return () => abort.abort();
  }, [shopId, apiKey]);

  const subscribe = useCallback((l: Listener) => {
    listeners.current.add(l);
    return () => void listeners.current.delete(l);
  }, []);
  const hub = useMemo<LiveHub>(() => ({ subscribe, connected }), [subscribe, connected]);
  return <LiveContext.Provider value={hub}>{children}</LiveContext.Provider>;
}

export const useLiveStatus = () => useContext(LiveContext).connected;

/** Calls `onEvent` for each live event of the given types (all when omitted). */
export function useShopEvents(types: readonly string[] | null, onEvent: (e: ShopEvent) => void): void {
  const { subscribe } = useContext(LiveContext);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const typeKey = types?.join(',') ?? '';
  useEffect(
    () =>
      subscribe((e) => {
        if (!typeKey || typeKey.split(',').includes(e.type)) handler.current(e);
      }),
    [subscribe, typeKey],
  );
}
