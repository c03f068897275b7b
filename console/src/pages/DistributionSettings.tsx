import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Descriptions, Form, InputNumber, Radio, Select, Space, Switch, Tag, Typography } from 'antd';
import { nextSlot, validateDistributionSettings, type DistributionSettings, type TimeWindow } from '../../../domain/distribution';
import { DISTRIBUTION_SLOT_MINUTES } from '../../../domain/limits';
import { ok, type Schemas } from '../api';
import { explain, useT } from '../i18n';
import { useShopEvents } from '../live';
import { ErrorAlert, errorText, shopTime, useLoad } from '../load';
import { useSignedIn } from '../session';

const HALF_HOURS = Array.from({ length: (24 * 60) / DISTRIBUTION_SLOT_MINUTES }, (_, i) => {
  const m = i * DISTRIBUTION_SLOT_MINUTES;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
});

/**
 * 自动分配设置 (客服分流 → 高级设置): scope, half-hour windows, target, conditions and cap. Checked
 * with the same rules the API applies (domain/distribution.ts), previewed by a dry run against the
 * live pool before saving, with the next slot these windows give in the shop's time zone.
 */
export function DistributionSettingsPage() {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const { message } = App.useApp();
  const shop = { path: { shopId: me.shopId } };
  const current = useLoad(() => ok(api.GET('/v1/shops/{shopId}/settings/distribution', { params: shop })), []);
  const schedule = useLoad(() => ok(api.GET('/v1/shops/{shopId}/distribution/schedule', { params: shop })), []);
  const agents = useLoad(() => ok(api.GET('/v1/shops/{shopId}/agents', { params: shop })), []);
  const groups = useLoad(() => ok(api.GET('/v1/shops/{shopId}/groups', { params: shop })), []);
  useShopEvents(['distribution.run.finished'], schedule.reload);

  const [draft, setDraft] = useState<DistributionSettings | null>(null);
  const [preview, setPreview] = useState<Schemas['DistributionRun'] | null>(null);
  const [serverError, setServerError] = useState<unknown>(null);
  const [busy, setBusy] = useState<'dry' | 'save' | null>(null);
  // A new saved version replaces the draft; a reload of the same version leaves the form as edited.
  const savedVersion = current.data?.version;
  const savedSettings = current.data?.settings;
  useEffect(() => {
    if (savedSettings) setDraft(savedSettings as DistributionSettings);
  }, [savedVersion]);

  if (!draft) return <ErrorAlert error={current.error} />;
  const change = (patch: Partial<DistributionSettings>) => {
    setDraft({ ...draft, ...patch });
    setPreview(null);
    setServerError(null);
  };
  const setWindow = (i: number, w: Partial<TimeWindow>) => change({ windows: draft.windows.map((x, j) => (j === i ? { ...x, ...w } : x)) });
  const violation = validateDistributionSettings(draft, me.timeZone);
  const proposedNext = violation ? null : nextSlot(Date.now(), draft, me.timeZone);

  const dryRun = async () => {
    setBusy('dry');
    setServerError(null);
    try {
      setPreview(await ok(api.POST('/v1/shops/{shopId}/distribution/dry-run', { params: shop, body: { settings: draft } })));
    } catch (err) {
      setServerError(err);
    } finally {
      setBusy(null);
    }
  };
  const save = async () => {
    setBusy('save');
    setServerError(null);
    try {
      await ok(api.PUT('/v1/shops/{shopId}/settings/distribution', { params: shop, body: { settings: draft } }));
      void message.success(t('saved'));
      current.reload();
      schedule.reload();
    } catch (err) {
      setServerError(err);
      void message.error(errorText(t, err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%', maxWidth: 880 }}>
      <ErrorAlert error={serverError} />
      <Card size="small">
        <Descriptions size="small" column={2}>
          <Descriptions.Item label={t('version')}>{current.data?.version}</Descriptions.Item>
          <Descriptions.Item label={t('nextSlot', { tz: me.timeZone })}>
            <span data-testid="next-slot">{schedule.data?.nextSlot ? shopTime(schedule.data.nextSlot, me.timeZone) : t('noNextSlot')}</span>
          </Descriptions.Item>
          {!!current.data?.version && current.data.changedBy && (
            <Descriptions.Item label={t('changedBy')}>{current.data.changedBy}</Descriptions.Item>
          )}
          {!!current.data?.version && current.data.changedAt && (
            <Descriptions.Item label={t('changedAt')}>{shopTime(current.data.changedAt, me.timeZone)}</Descriptions.Item>
          )}
        </Descriptions>
      </Card>
      <Form layout="vertical">
        <Form.Item label={t('enabled')}>
          <Switch checked={draft.enabled} onChange={(enabled) => change({ enabled })} data-testid="enabled" />
        </Form.Item>
        <Form.Item label={t('scope')}>
          <Radio.Group value={draft.scope} onChange={(e) => change({ scope: e.target.value })} data-testid="scope">
            <Space orientation="vertical">
              <Radio value="human_requested">{t('scope_human_requested')}</Radio>
              <Radio value="all">{t('scope_all')}</Radio>
            </Space>
          </Radio.Group>
        </Form.Item>
        <Form.Item label={t('windows')}>
          <Space orientation="vertical">
            {draft.windows.map((w, i) => (
              <Space key={i} data-testid={`window-${i}`}>
                <Select
                  value={w.start}
                  onChange={(start) => setWindow(i, { start })}
                  options={HALF_HOURS.map((v) => ({ value: v, label: v }))}
                  style={{ width: 110 }}
                  data-testid={`window-${i}-start`}
                  showSearch
                />
                <span>–</span>
                <Select
                  value={w.end}
                  onChange={(end) => setWindow(i, { end })}
                  options={HALF_HOURS.map((v) => ({ value: v, label: v }))}
                  style={{ width: 110 }}
                  data-testid={`window-${i}-end`}
                  showSearch
                />
                <Button onClick={() => change({ windows: draft.windows.filter((_, j) => j !== i) })} disabled={draft.windows.length === 1}>
                  −
                </Button>
              </Space>
            ))}
            <Button onClick={() => change({ windows: [...draft.windows, { start: '12:00', end: '12:00' }] })} data-testid="add-window">
              {t('addWindow')}
            </Button>
          </Space>
        </Form.Item>
        <Form.Item label={t('target')}>
          <Space orientation="vertical" style={{ width: '100%' }}>
            <Radio.Group
              value={draft.target.kind}
              onChange={(e) =>
                change({
                  target:
                    e.target.value === 'groups'
                      ? { kind: 'groups', groupIds: [] }
                      : e.target.value === 'agents'
                        ? { kind: 'agents', agentIds: [] }
                        : { kind: 'routing_rules' },
                })
              }
            >
              <Radio value="routing_rules">{t('target_routing_rules')}</Radio>
              <Radio value="groups">{t('target_groups')}</Radio>
              <Radio value="agents">{t('target_agents')}</Radio>
            </Radio.Group>
            {draft.target.kind === 'groups' && (
              <Select
                mode="multiple"
                value={draft.target.groupIds}
                onChange={(groupIds: string[]) => change({ target: { kind: 'groups', groupIds } })}
                options={(groups.data?.items ?? []).map((g) => ({ value: g.id ?? '', label: g.name }))}
              />
            )}
            {draft.target.kind === 'agents' && (
              <Select
                mode="multiple"
                value={draft.target.agentIds}
                onChange={(agentIds: string[]) => change({ target: { kind: 'agents', agentIds } })}
                options={(agents.data?.items ?? []).map((a) => ({ value: a.id ?? '', label: a.name }))}
              />
            )}
          </Space>
        </Form.Item>
        <Space size="large" wrap>
          <Form.Item label={t('minOnlineAgents')}>
            <InputNumber min={0} precision={0} value={draft.minOnlineAgents} onChange={(v) => change({ minOnlineAgents: v ?? 0 })} />
          </Form.Item>
          <Form.Item label={t('maxAvgPending')}>
            <InputNumber min={0} value={draft.maxAvgPending} onChange={(v) => change({ maxAvgPending: v ?? null })} />
          </Form.Item>
          <Form.Item label={t('perAgentCap')}>
            <InputNumber min={0} precision={0} value={draft.perAgentCap} onChange={(v) => change({ perAgentCap: v ?? 0 })} />
          </Form.Item>
        </Space>
      </Form>
      {violation ? (
        <Alert
          type="warning"
          showIcon
          title={explain(t, violation.code, violation.message)}
          description={violation.message}
          data-testid="settings-violation"
        />
      ) : (
        <Typography.Text type="secondary" data-testid="proposed-next-slot">
          {t('nextSlot', { tz: me.timeZone })}:{' '}
          {proposedNext ? shopTime(new Date(proposedNext).toISOString(), me.timeZone) : t('noNextSlot')}
        </Typography.Text>
      )}
      <Space>
        <Button onClick={() => void dryRun()} disabled={!!violation} loading={busy === 'dry'} data-testid="dry-run">
          {t('dryRun')}
        </Button>
        <Button type="primary" onClick={() => void save()} disabled={!!violation} loading={busy === 'save'} data-testid="save-distribution">
          {t('save')}
        </Button>
      </Space>
      {preview && (
        <Card title={t('dryRunResult')} size="small" data-testid="dry-run-result">
          {preview.outcome === 'failed' && (
            <Alert type="info" showIcon title={t(`failure_${preview.failureReason}`)} style={{ marginBottom: 12 }} />
          )}
          <Descriptions size="small" column={3}>
            <Descriptions.Item label={t('onlineAgents')}>{preview.onlineAgents}</Descriptions.Item>
            <Descriptions.Item label={t('runLimit')}>{preview.runLimit}</Descriptions.Item>
            <Descriptions.Item label={t('eligible')}>{preview.eligibleCount}</Descriptions.Item>
            <Descriptions.Item label={t('wouldAssign')}>
              <span data-testid="dry-run-assigned">{preview.assignedCount}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('wouldSkip')}>{preview.skippedCount}</Descriptions.Item>
          </Descriptions>
          {Object.keys(preview.perAgent ?? {}).length > 0 && (
            <div>
              {t('perAgentPreview')}:{' '}
              {Object.entries(preview.perAgent ?? {}).map(([a, n]) => (
                <Tag key={a}>
                  {(agents.data?.items ?? []).find((x) => x.id === a)?.name ?? a}: {n}
                </Tag>
              ))}
            </div>
          )}
        </Card>
      )}
    </Space>
  );
}
