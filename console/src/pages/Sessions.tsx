import { useState } from 'react';
import { Button, Descriptions, Drawer, Segmented, Space, Table, Tag, Timeline, Typography } from 'antd';
import { SESSION_STATUSES, type SessionStatus } from '../../../domain/session';
import { ok, type Schemas } from '../api';
import { useT, type Translate } from '../i18n';
import { useShopEvents } from '../live';
import { ErrorAlert, shopTime, useLoad } from '../load';
import { useSignedIn, type ShopEvent } from '../session';
import { assignmentReasonText, SessionCountdown, TransferButton } from '../components/Handoff';

type Session = Schemas['Session'];
type StatusFilter = 'all' | SessionStatus;

const STATUS_COLOR: Record<string, string> = { open: 'default', queued: 'orange', active: 'green', offline: 'purple', closed: 'default' };
const statusLabel = (t: Translate, s: string) => t(`status${s[0].toUpperCase()}${s.slice(1)}`);

export function StatusTag({ status }: { status: string }) {
  const { t } = useT();
  return <Tag color={STATUS_COLOR[status]}>{statusLabel(t, status)}</Tag>;
}

/** 全部会话: every session by status, newest first; a click opens its timeline. */
export function SessionsPage() {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const [status, setStatus] = useState<StatusFilter>('all');
  const [extra, setExtra] = useState<{ items: Session[]; cursor: string | null } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const list = useLoad(async () => {
    setExtra(null);
    return ok(api.GET('/v1/shops/{shopId}/sessions', { params: { path: { shopId: me.shopId }, query: { status, limit: 50 } } }));
  }, [status]);
  useShopEvents(
    [
      'session.opened',
      'session.assigned',
      'session.queued',
      'session.transferred',
      'session.rerouted',
      'session.closed',
      'offline_message.created',
    ],
    list.reload,
  );

  const items = [...(list.data?.items ?? []), ...(extra?.items ?? [])];
  const nextCursor = extra ? extra.cursor : (list.data?.nextCursor ?? null);
  const loadMore = async () => {
    if (!nextCursor) return;
    const page = await ok(
      api.GET('/v1/shops/{shopId}/sessions', { params: { path: { shopId: me.shopId }, query: { status, limit: 50, cursor: nextCursor } } }),
    );
    setExtra({ items: [...(extra?.items ?? []), ...(page.items ?? [])], cursor: page.nextCursor ?? null });
  };

  return (
    <>
      <ErrorAlert error={list.error} />
      <Segmented<StatusFilter>
        data-testid="status-filter"
        value={status}
        onChange={setStatus}
        style={{ marginBottom: 16 }}
        options={(['all', ...SESSION_STATUSES] as const).map((s) => ({ value: s, label: s === 'all' ? t('all') : statusLabel(t, s) }))}
      />
      <Table<Session>
        data-testid="sessions-table"
        rowKey="sessionId"
        size="small"
        loading={list.loading && !list.data}
        dataSource={items}
        pagination={false}
        onRow={(s) => ({ onClick: () => setOpen(s.sessionId ?? null), style: { cursor: 'pointer' } })}
        columns={[
          { title: t('session'), dataIndex: 'sessionId' },
          { title: t('buyer'), dataIndex: 'buyerId' },
          { title: t('topic'), dataIndex: 'topic' },
          { title: t('status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('agent'), dataIndex: 'agentId', render: (a: string | null) => a ?? '—' },
          {
            title: t('transferMessage'),
            dataIndex: 'assignmentReason',
            render: (r: string | null) => (r ? assignmentReasonText(t, r) : '—'),
          },
          { title: t('wantsHuman'), dataIndex: 'wantsHuman', render: (v: boolean) => (v ? t('yes') : t('no')) },
          { title: t('closeReason'), dataIndex: 'closeReason', render: (r: string | null) => (r ? t(`reason_${r}`) : '—') },
          { title: t('createdAt'), dataIndex: 'createdAt', render: (v: string) => shopTime(v, me.timeZone) },
          {
            title: '',
            key: 'handoff',
            render: (_: unknown, s: Session) =>
              s.status === 'active' && s.sessionId ? (
                <Space>
                  <SessionCountdown key={`${s.sessionId}:${s.assignedAt}`} sessionId={s.sessionId} />
                  <TransferButton session={s} onDone={list.reload} />
                </Space>
              ) : null,
          },
        ]}
      />
      {nextCursor && (
        <Button style={{ marginTop: 12 }} onClick={() => void loadMore()}>
          {t('loadMore')}
        </Button>
      )}
      <SessionDrawer sessionId={open} onClose={() => setOpen(null)} />
    </>
  );
}

function eventLine(t: Translate, e: ShopEvent): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'session.assigned':
      return `${t('ev_session.assigned')} ${String(d.agentId)} · ${String(d.operator)}${d.reason ? ` · ${assignmentReasonText(t, String(d.reason))}` : ''}`;
    case 'session.queued':
      return `${t('ev_session.queued')} · ${t('position')} ${String(d.position)}`;
    case 'session.closed':
      return `${t('ev_session.closed')} · ${t(`reason_${String(d.reason)}`)}`;
    case 'offline_message.created':
      return `${t('ev_offline_message.created')} · ${t(`origin_${String(d.origin)}`)}`;
    case 'session.transferred':
      return `${t('ev_session.transferred')} ${String(d.fromAgentId)} → ${String(d.toAgentId)}${d.note ? ` · ${String(d.note)}` : ''}`;
    case 'session.rerouted':
      return `${t('ev_session.rerouted')} · ${t(`reroute_${String(d.reason)}`)} · ${String(d.fromAgentId)} → ${d.toAgentId ? String(d.toAgentId) : statusLabel(t, d.outcome === 'queued' ? 'queued' : 'offline')}`;
    case 'session.queue_position_changed':
      return t('queuePlace', { position: String(d.position) });
    default:
      return t(`ev_${e.type}`);
  }
}

/** One session: its record, the snapshot it runs under, the live run's next deadline, every close, and its events in order. */
export function SessionDrawer({ sessionId, onClose }: { sessionId: string | null; onClose: () => void }) {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const detail = useLoad(async () => {
    if (!sessionId) return null;
    const [one, events] = await Promise.all([
      ok(api.GET('/v1/shops/{shopId}/sessions/{sessionId}', { params: { path: { shopId: me.shopId, sessionId } } })),
      // An agent's key reads only events naming that agent; the merchant sees the whole timeline.
      ok(api.GET('/v1/shops/{shopId}/events', { params: { path: { shopId: me.shopId }, query: { sessionId, limit: 500 } } })),
    ]);
    return { ...one, events: events.items };
  }, [sessionId]);
  useShopEvents(null, (e) => e.sessionId === sessionId && detail.reload());
  const d = detail.data;
  const snap = d?.session?.settingsSnapshot;
  return (
    <Drawer
      open={sessionId !== null}
      onClose={onClose}
      width={560}
      title={`${t('session')} ${sessionId ?? ''}`}
      data-testid="session-drawer"
    >
      <ErrorAlert error={detail.error} />
      {d && (
        <Space orientation="vertical" style={{ width: '100%' }} size="large">
          <Descriptions size="small" column={1} bordered>
            <Descriptions.Item label={t('status')}>{d.session?.status && <StatusTag status={d.session.status} />}</Descriptions.Item>
            <Descriptions.Item label={t('buyer')}>{d.session?.buyerId}</Descriptions.Item>
            <Descriptions.Item label={t('topic')}>{d.session?.topic}</Descriptions.Item>
            <Descriptions.Item label={t('agent')}>{d.session?.agentId ?? '—'}</Descriptions.Item>
            {d.session?.assignmentReason && (
              <Descriptions.Item label={t('transferMessage')}>{assignmentReasonText(t, d.session.assignmentReason)}</Descriptions.Item>
            )}
            {d.queue && (
              <Descriptions.Item label={t('statusQueued')}>
                <span data-testid="queue-place">
                  {t('queuePlace', { position: d.queue.position })}
                  {d.queue.estimatedWaitSeconds != null
                    ? ` · ${t('estimatedWait', { minutes: Math.ceil(d.queue.estimatedWaitSeconds / 60) })}`
                    : ''}
                </span>
              </Descriptions.Item>
            )}
            {d.session?.status === 'active' && d.session.sessionId && (
              <Descriptions.Item label={t('transfer')}>
                <Space>
                  <SessionCountdown key={`${d.session.sessionId}:${d.session.assignedAt}`} sessionId={d.session.sessionId} />
                  <TransferButton session={d.session} onDone={detail.reload} />
                </Space>
              </Descriptions.Item>
            )}
            <Descriptions.Item label={t('nextDeadline')}>
              {d.live?.nextDeadline?.at
                ? `${shopTime(d.live.nextDeadline.at, me.timeZone)} · ${t(`reason_${d.live.nextDeadline.reason}`)}`
                : d.live
                  ? '—'
                  : t('noLiveRun')}
            </Descriptions.Item>
          </Descriptions>
          {snap && (
            <Descriptions size="small" column={1} bordered title={t('snapshot')} data-testid="session-snapshot">
              <Descriptions.Item label={t('settingsVersion')}>{snap.settingsVersion}</Descriptions.Item>
              <Descriptions.Item label={t('policy')}>{t(`policy_${snap.policy}`)}</Descriptions.Item>
              <Descriptions.Item label={t('buyerIdle')}>{snap.buyerIdleMinutes}</Descriptions.Item>
              <Descriptions.Item label={t('agentReplyRule')}>{(snap.agentReplyTimeoutMs ?? 0) / 3_600_000} h</Descriptions.Item>
            </Descriptions>
          )}
          {(d.closures ?? []).length > 0 && (
            <div>
              <Typography.Title level={5}>{t('closures')}</Typography.Title>
              {(d.closures ?? []).map((c, i) => (
                <div key={i}>
                  {shopTime(c.closedAt, me.timeZone)} · {t(`reason_${c.reason}`)}
                </div>
              ))}
            </div>
          )}
          <div>
            <Typography.Title level={5}>{t('timeline')}</Typography.Title>
            <Timeline
              data-testid="session-timeline"
              items={(d.events ?? []).map((e) => ({ key: e.seq, content: `${shopTime(e.occurredAt, me.timeZone)} · ${eventLine(t, e)}` }))}
            />
          </div>
        </Space>
      )}
    </Drawer>
  );
}
