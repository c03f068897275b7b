import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { storeKey } from '../api';
import { useT } from '../i18n';
import { errorText } from '../load';

/** Sign-in with a key alone: GET /v1/me says which shop it reaches and whether it is an agent's. */
export function SignInPage({ onSignIn }: { onSignIn: (key: string) => Promise<void> }) {
  const { t, lang, setLang } = useT();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async ({ key }: { key: string }) => {
    setBusy(true);
    setError(null);
    try {
      await onSignIn(key.trim());
      storeKey(key.trim());
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card
      title={t('appTitle')}
      style={{ width: 420 }}
      extra={
        <Button size="small" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>
          {t('language')}
        </Button>
      }
    >
      <Typography.Paragraph type="secondary">{t('signInHint')}</Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} data-testid="sign-in-error" />}
      <Form layout="vertical" onFinish={submit} autoComplete="off">
        <Form.Item name="key" label={t('apiKey')} rules={[{ required: true, message: t('keyRequired') }]}>
          <Input.Password data-testid="key-input" autoFocus />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} block data-testid="sign-in">
          {t('signIn')}
        </Button>
      </Form>
    </Card>
  );
}
