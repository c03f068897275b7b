import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Descriptions, Form, InputNumber, Radio, Space, Switch, Tag } from 'antd';
import {
  validateAgentLeftPolicy,
  validateBuyerIdleMinutes,
  validateFirstReplyMinutes,
  type AgentLeftPolicy,
} from '../../../domain/session';
import { ok } from '../api';
import { explain, useT } from '../i18n';
import { ErrorAlert, errorText, shopTime, useLoad } from '../load';
import { useSignedIn } from '../session';

/**
 * 会话配置 (设置 → 接待工具 → 会话配置): buyer-idle 5–360 minutes, what happens when an agent goes
 * offline (keep, or re-route after 0–60 minutes) and the first-reply re-route (off, or 1–60 minutes),
 * each checked by the API's own rule as it is typed (no clamping or rounding: a bad value is
 * explained, never silently changed); the 6 h agent-reply limit shown as the platform rule it is.
 */
export function SessionSettingsPage() {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const { message } = App.useApp();
  const shop = { path: { shopId: me.shopId } };
  const current = useLoad(() => ok(api.GET('/v1/shops/{shopId}/settings/session', { params: shop })), []);
  const [value, setValue] = useState<number | null>(null);
  const [serverError, setServerError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [agentLeft, setAgentLeft] = useState<AgentLeftPolicy | null>(null);
  const [firstReply, setFirstReply] = useState<number | null | undefined>(undefined);
  const saved = current.data;
  useEffect(() => {
    if (saved?.buyerIdleMinutes !== undefined) setValue(saved.buyerIdleMinutes);
    if (saved?.agentLeft) setAgentLeft(saved.agentLeft as AgentLeftPolicy);
    if (saved && saved.firstReplyMinutes !== undefined) setFirstReply(saved.firstReplyMinutes);
  }, [saved]);

  const violation = validateBuyerIdleMinutes(value);
  const leftViolation = agentLeft ? validateAgentLeftPolicy(agentLeft) : null;
  const firstReplyViolation = firstReply !== undefined ? validateFirstReplyMinutes(firstReply) : null;
  const unchanged =
    value === saved?.buyerIdleMinutes &&
    JSON.stringify(agentLeft) === JSON.stringify(saved?.agentLeft) &&
    (firstReply ?? null) === (saved?.firstReplyMinutes ?? null);
  const save = async () => {
    if (violation || leftViolation || firstReplyViolation || value === null) return;
    setBusy(true);
    setServerError(null);
    try {
      const body = {
        buyerIdleMinutes: value,
        ...(agentLeft ? { agentLeft } : {}),
        ...(firstReply !== undefined ? { firstReplyMinutes: firstReply } : {}),
      };
      await ok(api.PUT('/v1/shops/{shopId}/settings/session', { params: shop, body }));
      void message.success(t('saved'));
      current.reload();
    } catch (err) {
      setServerError(err);
      void message.error(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%', maxWidth: 720 }}>
      <ErrorAlert error={current.error ?? serverError} />
      <Card>
        <Form layout="vertical">
          <Form.Item
            label={t('buyerIdle')}
            help={
              violation && value !== null ? (
                <span data-testid="buyer-idle-error">{explain(t, violation.code, violation.message)}</span>
              ) : (
                t('buyerIdleHelp')
              )
            }
            validateStatus={violation && value !== null ? 'error' : undefined}
          >
            <InputNumber
              value={value}
              onChange={(v) => setValue(typeof v === 'number' ? v : null)}
              style={{ width: 160 }}
              data-testid="buyer-idle-input"
            />
          </Form.Item>
          {agentLeft && (
            <Form.Item
              label={t('agentLeftPolicy')}
              help={
                leftViolation ? (
                  <span data-testid="agent-left-error">{explain(t, leftViolation.code, leftViolation.message)}</span>
                ) : (
                  t('agentLeftHelp')
                )
              }
              validateStatus={leftViolation ? 'error' : undefined}
            >
              <Space wrap>
                <Radio.Group
                  value={agentLeft.mode}
                  onChange={(e) => setAgentLeft({ ...agentLeft, mode: e.target.value as AgentLeftPolicy['mode'] })}
                  data-testid="agent-left-mode"
                  options={[
                    { value: 'reroute', label: t('agentLeftReroute') },
                    { value: 'keep', label: t('agentLeftKeep') },
                  ]}
                />
                <span>{t('graceMinutes')}</span>
                <InputNumber
                  disabled={agentLeft.mode === 'keep'}
                  value={agentLeft.graceMinutes}
                  onChange={(v) => setAgentLeft({ ...agentLeft, graceMinutes: typeof v === 'number' ? v : Number.NaN })}
                  data-testid="agent-left-grace"
                />
              </Space>
            </Form.Item>
          )}
          {firstReply !== undefined && (
            <Form.Item
              label={t('firstReply')}
              help={
                firstReplyViolation ? (
                  <span data-testid="first-reply-error">{explain(t, firstReplyViolation.code, firstReplyViolation.message)}</span>
                ) : (
                  t('firstReplyHelp')
                )
              }
              validateStatus={firstReplyViolation ? 'error' : undefined}
            >
              <Space>
                <Switch checked={firstReply !== null} onChange={(on) => setFirstReply(on ? 3 : null)} data-testid="first-reply-on" />
                {firstReply === null ? (
                  <span>{t('firstReplyOff')}</span>
                ) : (
                  <InputNumber
                    value={firstReply}
                    onChange={(v) => setFirstReply(typeof v === 'number' ? v : Number.NaN)}
                    data-testid="first-reply-minutes"
                  />
                )}
              </Space>
            </Form.Item>
          )}
          <Button
            type="primary"
            onClick={() => void save()}
            disabled={!!violation || !!leftViolation || !!firstReplyViolation || unchanged}
            loading={busy}
            data-testid="save-session-settings"
          >
            {t('save')}
          </Button>
        </Form>
      </Card>
      <Card>
        <Descriptions column={1} size="small">
          <Descriptions.Item label={t('agentReplyRule')}>
            <span data-testid="agent-reply-rule">{t('agentReplyRuleValue')}</span> <Tag>{t('platformRule')}</Tag>
          </Descriptions.Item>
          <Descriptions.Item label={t('version')}>
            <span data-testid="session-settings-version">{current.data?.version}</span>
          </Descriptions.Item>
          {!!current.data?.version && current.data.changedBy && (
            <Descriptions.Item label={t('changedBy')}>{current.data.changedBy}</Descriptions.Item>
          )}
          {!!current.data?.version && current.data.changedAt && (
            <Descriptions.Item label={t('changedAt')}>{shopTime(current.data.changedAt, me.timeZone)}</Descriptions.Item>
          )}
        </Descriptions>
      </Card>
      <Alert type="info" showIcon title={t('buyerIdleHelp')} />
    </Space>
  );
}
