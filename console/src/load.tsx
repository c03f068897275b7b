/** Loading a page's data, showing failures in the reader's language, and formatting shared values. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert } from 'antd';
import { ApiFailure } from './api';
import { explain, useT, type Translate } from './i18n';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change or `reload()` is called; the latest call wins. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => {
    const call = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    loader.current().then(
      (data) => call === latest.current && setState({ data, loading: false }),
      (error: unknown) => call === latest.current && setState((s) => ({ ...s, error, loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function errorText(t: Translate, err: unknown): string {
  if (err instanceof ApiFailure) {
    // A refusal that says why (details.reason) is explained by its reason when the dictionary knows it.
    const reason = (err.details as { reason?: unknown } | undefined)?.reason;
    const code =
      typeof reason === 'string' && t(`err_${err.code}_${reason}`) !== `err_${err.code}_${reason}` ? `${err.code}_${reason}` : err.code;
    return `${explain(t, code, err.message)} (${err.code})`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function ErrorAlert({ error }: { error: unknown }) {
  const { t } = useT();
  if (!error) return null;
  return (
    <Alert
      type="error"
      showIcon
      title={t('errorTitle')}
      description={errorText(t, error)}
      data-testid="error-alert"
      style={{ marginBottom: 16 }}
    />
  );
}

/** A time in the shop's zone, as the merchant reads it. */
export function shopTime(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat('zh-CN', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(new Date(iso));
}

export function duration(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}
