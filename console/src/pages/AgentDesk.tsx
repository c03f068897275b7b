import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, InputNumber, List, Radio, Segmented, Space, Tag, Typography } from 'antd';
import { AGENT_CAPACITY_MAX, AGENT_CAPACITY_MIN } from '../../../domain/limits';
import { AGENT_STATUSES, type AgentStatus } from '../../../domain/session';
import { ok } from '../api';
import { useT } from '../i18n';
import { useShopEvents } from '../live';
import { ErrorAlert, errorText, shopTime, useLoad } from '../load';
import { useSignedIn } from '../session';
import { SessionDrawer, StatusTag } from './Sessions';
import { assignmentReasonText, SessionCountdown, TransferButton } from '../components/Handoff';

/**
 * 我的工作台, for an agent's own key: go 在线 / 小休 / 离线, set my 最大接待人数, and my sessions, with
 * the system transfer message (离线留言分配) on those that came from the offline pool.
 */
export function AgentDeskPage() {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const { message } = App.useApp();
  const agentId = me.agent?.agentId;
  const [filter, setFilter] = useState<'active' | 'all'>('active');
  const [capacity, setCapacity] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<string | null>(null);
  const self = useLoad(
    async () => (agentId ? ok(api.GET('/v1/shops/{shopId}/agents/{agentId}', { params: { path: { shopId: me.shopId, agentId } } })) : null),
    [agentId],
  );
  const sessions = useLoad(
    async () =>
      agentId
        ? ok(
            api.GET('/v1/shops/{shopId}/sessions', {
              params: { path: { shopId: me.shopId }, query: { status: filter, agentId, limit: 100 } },
            }),
          )
        : null,
    [agentId, filter],
  );
  // The stream carries only events that name this agent.
  useShopEvents(null, () => {
    self.reload();
    sessions.reload();
  });
  // Follows the saved value, not every live reload: a number being typed is not overwritten.
  const savedCapacity = self.data?.capacity;
  useEffect(() => {
    if (savedCapacity !== undefined) setCapacity(savedCapacity);
  }, [savedCapacity]);

  if (!agentId) return <Alert type="warning" title={t('notAnAgentKey')} />;
  const change = async (body: { status?: AgentStatus; capacity?: number }) => {
    setError(null);
    try {
      await ok(api.PATCH('/v1/shops/{shopId}/agents/{agentId}', { params: { path: { shopId: me.shopId, agentId } }, body }));
      void message.success(t('saved'));
    } catch (err) {
      setError(err);
      void message.error(errorText(t, err));
    } finally {
      self.reload();
    }
  };

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%', maxWidth: 900 }}>
      <ErrorAlert error={error ?? self.error ?? sessions.error} />
      <Card title={t('myStatus')} size="small">
        <Space size="large" wrap>
          <Radio.Group
            optionType="button"
            buttonStyle="solid"
            value={self.data?.status}
            onChange={(e) => void change({ status: e.target.value as AgentStatus })}
            data-testid="my-status"
            options={AGENT_STATUSES.map((s) => ({ value: s, label: t(s) }))}
          />
          <Space>
            <span>{t('maxReception')}</span>
            <InputNumber
              min={AGENT_CAPACITY_MIN}
              max={AGENT_CAPACITY_MAX}
              precision={0}
              value={capacity}
              onChange={(v) => setCapacity(v)}
              data-testid="my-capacity"
            />
            <Button
              onClick={() => capacity !== null && void change({ capacity })}
              disabled={capacity === null || capacity === self.data?.capacity}
              data-testid="save-capacity"
            >
              {t('save')}
            </Button>
          </Space>
          <Typography.Text type="secondary" data-testid="my-load">
            {t('load')}: {self.data?.activeSessions ?? 0} / {self.data?.capacity ?? 0}
          </Typography.Text>
        </Space>
      </Card>
      <Card
        title={t('mySessions')}
        size="small"
        extra={
          <Segmented
            value={filter}
            onChange={(v) => setFilter(v as 'active' | 'all')}
            options={[
              { value: 'active', label: t('statusActive') },
              { value: 'all', label: t('all') },
            ]}
          />
        }
      >
        <List
          data-testid="my-sessions"
          dataSource={sessions.data?.items ?? []}
          renderItem={(s) => (
            <List.Item
              key={s.sessionId}
              onClick={() => setOpen(s.sessionId ?? null)}
              style={{ cursor: 'pointer' }}
              data-testid={`my-session-${s.sessionId}`}
            >
              <List.Item.Meta
                title={
                  <Space>
                    {s.sessionId} <StatusTag status={s.status ?? 'open'} /> <Tag>{s.topic}</Tag>
                  </Space>
                }
                description={`${t('buyer')} ${s.buyerId} · ${shopTime(s.assignedAt ?? s.createdAt, me.timeZone)}`}
              />
              <Space orientation="vertical" align="end">
                {s.assignmentReason && (
                  <Alert
                    type="info"
                    showIcon
                    title={`${t('transferMessage')}：${assignmentReasonText(t, s.assignmentReason)}`}
                    data-testid="transfer-message"
                  />
                )}
                {s.status === 'active' && s.sessionId && (
                  <Space>
                    <SessionCountdown key={`${s.sessionId}:${s.assignedAt}`} sessionId={s.sessionId} />
                    <TransferButton session={s} onDone={sessions.reload} />
                  </Space>
                )}
              </Space>
            </List.Item>
          )}
        />
      </Card>
      <SessionDrawer sessionId={open} onClose={() => setOpen(null)} />
    </Space>
  );
}
