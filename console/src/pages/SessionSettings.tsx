import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Descriptions, Form, InputNumber, Space, Tag } from 'antd';
import { validateBuyerIdleMinutes } from '../../../domain/session';
import { ok } from '../api';
import { explain, useT } from '../i18n';
import { ErrorAlert, errorText, shopTime, useLoad } from '../load';
import { useSignedIn } from '../session';

/**
 * 会话配置 (设置 → 接待工具 → 会话配置): buyer-idle 5–360 minutes, checked by the API's own rule as
 * it is typed (no clamping or rounding: a bad value is explained, never silently changed); the 6 h
 * agent-reply limit shown as the platform rule it is.
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
  const savedValue = current.data?.buyerIdleMinutes;
  useEffect(() => {
    if (savedValue !== undefined) setValue(savedValue);
  }, [savedValue]);

  const violation = validateBuyerIdleMinutes(value);
  const save = async () => {
    if (violation || value === null) return;
    setBusy(true);
    setServerError(null);
    try {
      await ok(api.PUT('/v1/shops/{shopId}/settings/session', { params: shop, body: { buyerIdleMinutes: value } }));
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
            help={violation && value !== null ? <span data-testid="buyer-idle-error">{explain(t, violation.code, violation.message)}</span> : t('buyerIdleHelp')}
            validateStatus={violation && value !== null ? 'error' : undefined}
          >
            <InputNumber value={value} onChange={(v) => setValue(typeof v === 'number' ? v : null)} style={{ width: 160 }} data-testid="buyer-idle-input" />
          </Form.Item>
          <Button type="primary" onClick={() => void save()} disabled={!!violation || value === current.data?.buyerIdleMinutes} loading={busy} data-testid="save-session-settings">
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
          {!!current.data?.version && current.data.changedBy && <Descriptions.Item label={t('changedBy')}>{current.data.changedBy}</Descriptions.Item>}
          {!!current.data?.version && current.data.changedAt && <Descriptions.Item label={t('changedAt')}>{shopTime(current.data.changedAt, me.timeZone)}</Descriptions.Item>}
        </Descriptions>
      </Card>
      <Alert type="info" showIcon title={t('buyerIdleHelp')} />
    </Space>
  );
}
