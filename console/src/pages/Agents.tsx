import { useState } from 'react';
import { Alert, App, Button, Card, Form, Input, InputNumber, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { AGENT_CAPACITY_MAX, AGENT_CAPACITY_MIN } from '../../../domain/limits';
import { AGENT_STATUSES, type AgentStatus } from '../../../domain/session';
import { ok, type Schemas } from '../api';
import { useT } from '../i18n';
import { useShopEvents } from '../live';
import { ErrorAlert, errorText, shopTime, useLoad } from '../load';
import { useSignedIn } from '../session';

const STATUS_COLORS: Record<AgentStatus, string> = { online: 'green', suspended: 'orange', offline: 'default' };

/** 客服与分流分组: every agent's status, 最大接待人数 and load (live), and the routing groups with their topics and members. */
export function AgentsPage() {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const { message } = App.useApp();
  const shop = { path: { shopId: me.shopId } };
  // An agent's key is shown once, here: the merchant hands it to the agent for 我的工作台.
  const [issued, setIssued] = useState<{ name: string; apiKey: string } | null>(null);
  const showKey = (name: string, apiKey: string) => setIssued({ name, apiKey });
  const issueKey = (agentId: string, name: string) =>
    act(async () => {
      const issued = await ok(api.POST('/v1/shops/{shopId}/keys', { params: shop, body: { agentId, label: `${name} · console` } }));
      if (issued.apiKey) showKey(name, issued.apiKey);
    });
  const agents = useLoad(() => ok(api.GET('/v1/shops/{shopId}/agents', { params: shop })), []);
  const groups = useLoad(() => ok(api.GET('/v1/shops/{shopId}/groups', { params: shop })), []);
  useShopEvents(['agent.status_changed', 'session.assigned', 'session.transferred', 'session.rerouted', 'session.closed'], agents.reload);
  const [error, setError] = useState<unknown>(null);
  const [newAgent, setNewAgent] = useState(false);
  const [newGroup, setNewGroup] = useState(false);
  const [editGroup, setEditGroup] = useState<Schemas['RoutingGroup'] | null>(null);

  const act = async (call: () => Promise<unknown>) => {
    setError(null);
    try {
      await call();
      void message.success(t('saved'));
    } catch (err) {
      setError(err);
      void message.error(errorText(t, err));
    } finally {
      agents.reload();
      groups.reload();
    }
  };
  const patchAgent = (agentId: string, body: { status?: AgentStatus; capacity?: number }) =>
    act(() => ok(api.PATCH('/v1/shops/{shopId}/agents/{agentId}', { params: { path: { shopId: me.shopId, agentId } }, body })));
  const agentName = new Map((agents.data?.items ?? []).map((a) => [a.id, a.name]));

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <ErrorAlert error={error ?? agents.error ?? groups.error} />
      {issued && (
        <Alert
          type="success"
          showIcon
          closable={{ onClose: () => setIssued(null) }}
          title={`${t('agentKey')} · ${issued.name}`}
          description={
            <Space orientation="vertical">
              <Typography.Text type="secondary">{t('agentKeyOnce')}</Typography.Text>
              <Typography.Text code copyable data-testid="new-agent-key">
                {issued.apiKey}
              </Typography.Text>
            </Space>
          }
        />
      )}
      <Card
        title={t('agents')}
        size="small"
        extra={
          <Button onClick={() => setNewAgent(true)} data-testid="add-agent">
            {t('addAgent')}
          </Button>
        }
      >
        <Table<Schemas['Agent']>
          data-testid="agents-table"
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={agents.data?.items ?? []}
          columns={[
            { title: t('name'), dataIndex: 'name' },
            { title: 'ID', dataIndex: 'id' },
            {
              title: t('status'),
              dataIndex: 'status',
              render: (s: AgentStatus, a) => (
                <Space>
                  <Tag color={STATUS_COLORS[s]} data-testid={`agent-status-${a.id}`}>
                    {t(s)}
                  </Tag>
                  <Select<AgentStatus>
                    size="small"
                    value={s}
                    style={{ width: 90 }}
                    onChange={(status) => void patchAgent(a.id!, { status })}
                    options={AGENT_STATUSES.map((v) => ({ value: v, label: t(v) }))}
                  />
                </Space>
              ),
            },
            {
              title: t('maxReception'),
              dataIndex: 'capacity',
              render: (c: number, a) => (
                <InputNumber
                  size="small"
                  min={AGENT_CAPACITY_MIN}
                  max={AGENT_CAPACITY_MAX}
                  precision={0}
                  defaultValue={c}
                  key={`${a.id}-${c}`}
                  onBlur={(e) => {
                    const v = Number(e.target.value);
                    if (Number.isInteger(v) && v !== c) void patchAgent(a.id!, { capacity: v });
                  }}
                />
              ),
            },
            {
              title: t('load'),
              render: (_, a) => (
                <span data-testid={`agent-load-${a.id}`}>
                  {a.activeSessions} / {a.capacity}
                </span>
              ),
            },
            {
              title: t('groups'),
              dataIndex: 'groupIds',
              render: (ids: string[]) => ids.map((g) => <Tag key={g}>{(groups.data?.items ?? []).find((x) => x.id === g)?.name ?? g}</Tag>),
            },
            { title: t('lastAssigned'), dataIndex: 'lastAssignedAt', render: (v: string | null) => shopTime(v, me.timeZone) },
            {
              title: '',
              render: (_, a) => (
                <Button size="small" onClick={() => void issueKey(a.id!, a.name ?? '')}>
                  {t('issueAgentKey')}
                </Button>
              ),
            },
          ]}
        />
      </Card>
      <Card
        title={t('groups')}
        size="small"
        extra={
          <Button onClick={() => setNewGroup(true)} data-testid="add-group">
            {t('addGroup')}
          </Button>
        }
      >
        <Table<Schemas['RoutingGroup']>
          data-testid="groups-table"
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={groups.data?.items ?? []}
          columns={[
            { title: t('name'), dataIndex: 'name' },
            { title: t('receptionScope'), dataIndex: 'scopes', render: (s: string[]) => s.map((x) => <Tag key={x}>{x}</Tag>) },
            {
              title: t('members'),
              dataIndex: 'agentIds',
              render: (ids: string[]) => ids.map((id) => agentName.get(id) ?? id).join('、') || '—',
            },
            {
              title: '',
              render: (_, g) => (
                <Button size="small" onClick={() => setEditGroup(g)}>
                  {t('edit')}
                </Button>
              ),
            },
          ]}
        />
      </Card>
      <Modal open={newAgent} title={t('addAgent')} footer={null} onCancel={() => setNewAgent(false)} destroyOnHidden>
        <Form
          layout="vertical"
          initialValues={{ capacity: 5 }}
          onFinish={(v: { name: string; capacity: number }) => {
            setNewAgent(false);
            void act(async () => {
              const created = await ok(
                api.POST('/v1/shops/{shopId}/agents', { params: shop, body: { name: v.name, capacity: v.capacity } }),
              );
              if (created.apiKey) showKey(v.name, created.apiKey);
            });
          }}
        >
          <Form.Item name="name" label={t('name')} rules={[{ required: true }]}>
            <Input data-testid="new-agent-name" maxLength={200} />
          </Form.Item>
          <Form.Item name="capacity" label={t('maxReception')} rules={[{ required: true }]}>
            <InputNumber min={AGENT_CAPACITY_MIN} max={AGENT_CAPACITY_MAX} precision={0} />
          </Form.Item>
          <Button type="primary" htmlType="submit" data-testid="create-agent">
            {t('create')}
          </Button>
        </Form>
      </Modal>
      <Modal
        open={newGroup || editGroup !== null}
        title={editGroup ? `${t('edit')} · ${editGroup.name}` : t('addGroup')}
        footer={null}
        onCancel={() => {
          setNewGroup(false);
          setEditGroup(null);
        }}
        destroyOnHidden
      >
        <Form
          layout="vertical"
          initialValues={
            editGroup ? { name: editGroup.name, scopes: editGroup.scopes, agentIds: editGroup.agentIds } : { scopes: [], agentIds: [] }
          }
          onFinish={(v: { name: string; scopes: string[]; agentIds: string[] }) => {
            const editing = editGroup;
            setNewGroup(false);
            setEditGroup(null);
            void act(async () => {
              if (!editing)
                return ok(
                  api.POST('/v1/shops/{shopId}/groups', { params: shop, body: { name: v.name, scopes: v.scopes, agentIds: v.agentIds } }),
                );
              const path = { shopId: me.shopId, groupId: editing.id! };
              await ok(api.PATCH('/v1/shops/{shopId}/groups/{groupId}', { params: { path }, body: { name: v.name, scopes: v.scopes } }));
              return ok(api.PUT('/v1/shops/{shopId}/groups/{groupId}/members', { params: { path }, body: { agentIds: v.agentIds } }));
            });
          }}
        >
          <Form.Item name="name" label={t('name')} rules={[{ required: true }]}>
            <Input maxLength={200} data-testid="group-name" />
          </Form.Item>
          <Form.Item name="scopes" label={t('receptionScope')} rules={[{ required: true }]}>
            <Select mode="tags" data-testid="group-scopes" />
          </Form.Item>
          <Form.Item name="agentIds" label={t('members')}>
            <Select mode="multiple" options={(agents.data?.items ?? []).map((a) => ({ value: a.id ?? '', label: a.name }))} />
          </Form.Item>
          <Button type="primary" htmlType="submit" data-testid="save-group">
            {t('save')}
          </Button>
        </Form>
      </Modal>
    </Space>
  );
}
