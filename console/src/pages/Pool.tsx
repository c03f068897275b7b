import { useState } from 'react';
import { App, Button, Card, Col, Input, Row, Select, Space, Statistic, Table, Tag } from 'antd';
import { shopDay } from '../../../domain/distribution';
import { ok, type Schemas } from '../api';
import { DailyChart } from '../components/DailyChart';
import { useT } from '../i18n';
import { useShopEvents } from '../live';
import { ErrorAlert, errorText, shopTime, useLoad } from '../load';
import { useSignedIn } from '../session';

type PoolStatus = 'pending' | 'assigned' | 'skipped';
const DAY_MS = 24 * 3600_000;

/** 留言池: filter, pick messages and assign them to an agent; the day's automatic count, 30 days of them, and the records. */
export function PoolPage() {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const { message } = App.useApp();
  const shop = { path: { shopId: me.shopId } };
  const [status, setStatus] = useState<PoolStatus>('pending');
  const [wantsHuman, setWantsHuman] = useState<boolean | undefined>(undefined);
  const [topic, setTopic] = useState('');
  const [selected, setSelected] = useState<number[]>([]);
  const [agentId, setAgentId] = useState<string | undefined>(undefined);
  const [assignError, setAssignError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const pool = useLoad(
    () =>
      ok(
        api.GET('/v1/shops/{shopId}/offline-messages', {
          params: {
            ...shop,
            query: {
              status,
              limit: 200,
              ...(wantsHuman === undefined ? {} : { wantsHuman }),
              ...(topic.trim() ? { topic: topic.trim() } : {}),
            },
          },
        }),
      ),
    [status, wantsHuman, topic],
  );
  const agents = useLoad(() => ok(api.GET('/v1/shops/{shopId}/agents', { params: shop })), []);
  const counts = useLoad(
    () => ok(api.GET('/v1/shops/{shopId}/distribution/daily-counts', { params: { ...shop, query: { days: 30 } } })),
    [],
  );
  const records = useLoad(() => ok(api.GET('/v1/shops/{shopId}/assignment-records', { params: { ...shop, query: { limit: 50 } } })), []);
  const runs = useLoad(() => ok(api.GET('/v1/shops/{shopId}/distribution/runs', { params: { ...shop, query: { limit: 20 } } })), []);
  useShopEvents(['offline_message.created', 'session.assigned', 'distribution.run.finished'], () => {
    pool.reload();
    counts.reload();
    records.reload();
    runs.reload();
  });
  useShopEvents(['agent.status_changed', 'session.assigned', 'session.transferred', 'session.rerouted', 'session.closed'], agents.reload);
  const agentName = (id: string | null) => (id ? ((agents.data?.items ?? []).find((a) => a.id === id)?.name ?? id) : '—');

  const byDay = new Map((counts.data?.items ?? []).map((d) => [d.day, d.autoAssigned ?? 0]));
  const now = Date.now();
  const last30 = Array.from({ length: 30 }, (_, i) => shopDay(now - (29 - i) * DAY_MS, me.timeZone)).map((day) => ({
    day,
    count: byDay.get(day) ?? 0,
  }));
  const today = last30[last30.length - 1];

  const assign = async () => {
    if (!agentId || selected.length === 0) return;
    setBusy(true);
    setAssignError(null);
    try {
      const result = await ok(
        api.POST('/v1/shops/{shopId}/offline-messages/assign', { params: shop, body: { messageIds: selected, agentId } }),
      );
      const notAssigned = result.notAssigned ?? [];
      void message.success(
        `${t('assignedN', { n: result.assigned?.length ?? 0 })}${notAssigned.length ? ` · ${t('notAssignedN', { n: notAssigned.length })}` : ''}`,
      );
      setSelected([]);
    } catch (err) {
      setAssignError(err);
      void message.error(errorText(t, err));
    } finally {
      setBusy(false);
      pool.reload();
      records.reload();
    }
  };

  const runNow = async () => {
    setBusy(true);
    setAssignError(null);
    try {
      const run = await ok(api.POST('/v1/shops/{shopId}/distribution/run-now', { params: shop, body: {} }));
      void message.success(run.outcome === 'failed' ? t(`failure_${run.failureReason}`) : t('runNowDone', { n: run.assignedCount ?? 0 }));
    } catch (err) {
      setAssignError(err);
      void message.error(errorText(t, err));
    } finally {
      setBusy(false);
      pool.reload();
      runs.reload();
      counts.reload();
      records.reload();
    }
  };

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <ErrorAlert error={pool.error ?? assignError} />
      <Space wrap>
        <Select<PoolStatus>
          data-testid="pool-status"
          value={status}
          onChange={(v) => {
            setStatus(v);
            setSelected([]);
          }}
          style={{ width: 140 }}
          options={[
            { value: 'pending', label: t('poolPending') },
            { value: 'assigned', label: t('poolAssigned') },
            { value: 'skipped', label: t('poolSkipped') },
          ]}
        />
        <Select<string>
          value={wantsHuman === undefined ? 'any' : String(wantsHuman)}
          onChange={(v) => setWantsHuman(v === 'any' ? undefined : v === 'true')}
          style={{ width: 160 }}
          options={[
            { value: 'any', label: `${t('wantsHuman')}: ${t('all')}` },
            { value: 'true', label: `${t('wantsHuman')}: ${t('yes')}` },
            { value: 'false', label: `${t('wantsHuman')}: ${t('no')}` },
          ]}
        />
        <Input.Search placeholder={t('topic')} allowClear onSearch={setTopic} style={{ width: 200 }} />
      </Space>
      <Table<Schemas['OfflineMessage']>
        data-testid="pool-table"
        rowKey="id"
        size="small"
        pagination={false}
        loading={pool.loading && !pool.data}
        dataSource={pool.data?.items ?? []}
        rowSelection={status === 'pending' ? { selectedRowKeys: selected, onChange: (keys) => setSelected(keys as number[]) } : undefined}
        columns={[
          { title: 'ID', dataIndex: 'id', width: 80 },
          { title: t('session'), dataIndex: 'sessionId' },
          { title: t('buyer'), dataIndex: 'buyerId' },
          { title: t('topic'), dataIndex: 'topic' },
          { title: t('origin'), dataIndex: 'origin', render: (o: string) => <Tag>{t(`origin_${o}`)}</Tag> },
          { title: t('wantsHuman'), dataIndex: 'wantsHuman', render: (v: boolean) => (v ? t('yes') : t('no')) },
          { title: t('agent'), dataIndex: 'agentId', render: agentName },
          { title: t('createdAt'), dataIndex: 'createdAt', render: (v: string) => shopTime(v, me.timeZone) },
        ]}
      />
      {status === 'pending' && (
        <Space>
          <Select<string>
            data-testid="assign-agent"
            placeholder={t('chooseAgent')}
            value={agentId}
            onChange={setAgentId}
            style={{ width: 220 }}
            options={(agents.data?.items ?? []).map((a) => ({
              value: a.id ?? '',
              label: `${a.name} (${t(a.status ?? 'offline')} · ${a.activeSessions}/${a.capacity})`,
            }))}
          />
          <Button
            type="primary"
            disabled={!agentId || selected.length === 0}
            loading={busy}
            onClick={() => void assign()}
            data-testid="assign-button"
          >
            {t('assignSelected')} ({selected.length})
          </Button>
        </Space>
      )}
      <Row gutter={16}>
        <Col flex="200px">
          <Card>
            <Statistic title={t('todayAutoAssigned')} value={today.count} data-testid="today-auto-assigned" />
          </Card>
        </Col>
        <Col flex="auto">
          <Card title={t('last30Days')} size="small">
            <DailyChart days={last30} label={t('last30Days')} />
          </Card>
        </Col>
      </Row>
      <Card
        title={t('runs')}
        size="small"
        extra={
          <Button onClick={() => void runNow()} loading={busy} data-testid="run-now">
            {t('runNow')}
          </Button>
        }
      >
        <Table
          data-testid="runs-table"
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={runs.data?.items ?? []}
          columns={[
            { title: t('createdAt'), dataIndex: 'at', render: (v: string) => shopTime(v, me.timeZone) },
            { title: t('trigger'), dataIndex: 'trigger', render: (v: string) => t(`trigger_${v}`) },
            {
              title: t('outcome'),
              dataIndex: 'outcome',
              render: (o: string) => <Tag color={o === 'succeeded' ? 'green' : 'default'}>{t(`outcome_${o}`)}</Tag>,
            },
            { title: t('failureReason'), dataIndex: 'failureReason', render: (r: string | null) => (r ? t(`failure_${r}`) : '—') },
            { title: t('onlineAgents'), dataIndex: 'onlineAgents' },
            { title: t('eligible'), dataIndex: 'eligibleCount' },
            { title: t('assignedCount'), dataIndex: 'assignedCount' },
            { title: t('skippedCount'), dataIndex: 'skippedCount' },
          ]}
        />
      </Card>
      <Card title={t('records')} size="small" id="records">
        <ErrorAlert error={records.error} />
        <Table
          data-testid="records-table"
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={records.data?.items ?? []}
          columns={[
            { title: t('createdAt'), dataIndex: 'createdAt', render: (v: string) => shopTime(v, me.timeZone) },
            { title: t('session'), dataIndex: 'sessionId' },
            { title: t('agent'), dataIndex: 'agentId', render: agentName },
            { title: t('operator'), dataIndex: 'operator' },
            { title: t('recordKind'), dataIndex: 'kind', render: (k: string) => t(`kind_${k}`) },
            {
              title: t('outcome'),
              dataIndex: 'outcome',
              render: (o: string) => <Tag color={o === 'assigned' ? 'green' : 'red'}>{t(`outcome_${o}`)}</Tag>,
            },
            { title: t('recordReason'), dataIndex: 'reason', render: (r: string | null) => r ?? '—' },
          ]}
        />
      </Card>
    </Space>
  );
}
