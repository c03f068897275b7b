/**
 * The console shell: language, sign-in, the menu for the key's kind (merchant or agent) and hash
 * routes (#/pool, #/sessions, …) so that every page is served by the one index.html.
 */
import { Component, lazy, Suspense, useEffect, useMemo, useState, type ReactNode } from 'react';
import { App as AntApp, Badge, Button, ConfigProvider, Layout, Menu, Result, Space, Spin, Tag, Typography } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import enUS from 'antd/locale/en_US';
import { apiFor, forgetKey, ok, storedKey } from './api';
import { LangContext, translator, useT, type Lang, type MessageKey } from './i18n';
import { LiveProvider, useLiveStatus } from './live';
import { SessionContext, type Me, type SignedIn } from './session';
import { SignInPage } from './pages/SignIn';
import { SessionsPage } from './pages/Sessions';
import { QueuePage } from './pages/Queue';
import { PoolPage } from './pages/Pool';
import { DistributionSettingsPage } from './pages/DistributionSettings';
import { SessionSettingsPage } from './pages/SessionSettings';
import { AgentsPage } from './pages/Agents';
import { AgentDeskPage } from './pages/AgentDesk';

// The charts library is most of the bundle and only this page draws with it: loaded when it opens.
const ServiceLevelsPage = lazy(() => import('./pages/ServiceLevels').then((m) => ({ default: m.ServiceLevelsPage })));

const LANG_STORAGE = 'cs.console.lang';

/**
 * A page whose script cannot load — an open tab after a new console was deployed asks for a chunk
 * that is gone — says so and offers a reload, instead of leaving the whole console blank.
 */
class PageLoadBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  render() {
    return this.state.failed ? <PageLoadFailed /> : this.props.children;
  }
}

function PageLoadFailed() {
  const { t } = useT();
  return (
    <Result
      status="warning"
      title={t('pageLoadFailed')}
      extra={
        <Button type="primary" onClick={() => window.location.reload()} data-testid="reload-page">
          {t('reloadPage')}
        </Button>
      }
    />
  );
}

const MERCHANT_PAGES: { path: string; label: MessageKey; render: () => ReactNode }[] = [
  { path: 'sessions', label: 'navSessions', render: () => <SessionsPage /> },
  { path: 'queue', label: 'navQueue', render: () => <QueuePage /> },
  { path: 'pool', label: 'navPool', render: () => <PoolPage /> },
  { path: 'distribution', label: 'navDistribution', render: () => <DistributionSettingsPage /> },
  { path: 'session-settings', label: 'navSessionSettings', render: () => <SessionSettingsPage /> },
  { path: 'agents', label: 'navAgents', render: () => <AgentsPage /> },
  { path: 'service', label: 'navService', render: () => <ServiceLevelsPage /> },
];
const AGENT_PAGES: typeof MERCHANT_PAGES = [
  { path: 'desk', label: 'navMe', render: () => <AgentDeskPage /> },
  { path: 'service', label: 'navService', render: () => <ServiceLevelsPage /> },
];

function useHashPath(): [string, (p: string) => void] {
  const read = () => window.location.hash.replace(/^#\/?/, '');
  const [path, setPath] = useState(read);
  useEffect(() => {
    const onHash = () => setPath(read());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return [path, (p) => (window.location.hash = `#/${p}`)];
}

function LiveBadge() {
  const connected = useLiveStatus();
  return (
    <Badge
      status={connected ? 'success' : 'warning'}
      text={
        <span data-testid="live-status" data-connected={connected}>
          {connected ? '实时 · live' : '…'}
        </span>
      }
    />
  );
}

function Shell({ session, onSignOut }: { session: SignedIn; onSignOut: () => void }) {
  const { t, lang, setLang } = useT();
  const pages = session.me.kind === 'agent' ? AGENT_PAGES : MERCHANT_PAGES;
  const [path, go] = useHashPath();
  const page = pages.find((p) => p.path === path) ?? pages[0];
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider width={200} theme="light" breakpoint="lg" collapsedWidth={0}>
        <div style={{ padding: 16 }}>
          <Typography.Title level={5} style={{ margin: 0 }}>
            {t('appTitle')}
          </Typography.Title>
          <Typography.Text type="secondary" data-testid="shop-name">
            {session.me.shopName}
          </Typography.Text>
        </div>
        <Menu
          mode="inline"
          selectedKeys={[page.path]}
          items={pages.map((p) => ({ key: p.path, label: t(p.label), 'data-testid': `nav-${p.path}` }))}
          onClick={(e) => go(e.key)}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{ background: '#fff', display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 16, paddingInline: 24 }}
        >
          <LiveBadge />
          <Tag color={session.me.kind === 'agent' ? 'blue' : 'gold'} data-testid="key-kind">
            {session.me.kind === 'agent' ? `${t('agent')} · ${session.me.agent?.name ?? ''}` : t('merchant')}
          </Tag>
          <Button size="small" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')} data-testid="lang-switch">
            {t('language')}
          </Button>
          <Button size="small" onClick={onSignOut} data-testid="sign-out">
            {t('signOut')}
          </Button>
        </Layout.Header>
        <Layout.Content style={{ padding: 24 }}>
          <Typography.Title level={3} data-testid="page-title">
            {t(page.label)}
          </Typography.Title>
          <PageLoadBoundary key={page.path}>
            <Suspense fallback={<Spin />}>{page.render()}</Suspense>
          </PageLoadBoundary>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

export function App() {
  const [lang, setLangState] = useState<Lang>(() => (localStorage.getItem(LANG_STORAGE) === 'en' ? 'en' : 'zh'));
  const langValue = useMemo(
    () => ({
      lang,
      t: translator(lang),
      setLang: (l: Lang) => {
        localStorage.setItem(LANG_STORAGE, l);
        document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
        setLangState(l);
      },
    }),
    [lang],
  );
  const [session, setSession] = useState<SignedIn | null>(null);
  const [restoring, setRestoring] = useState(() => storedKey() !== null);

  const signIn = async (key: string): Promise<void> => {
    const api = apiFor(key);
    const me = (await ok(api.GET('/v1/me'))) as Me;
    setSession({ me, api, key });
  };

  useEffect(() => {
    const key = storedKey();
    if (!key) return;
    signIn(key)
      .catch(() => forgetKey())
      .finally(() => setRestoring(false));
  }, []);

  const signOut = () => {
    forgetKey();
    setSession(null);
    window.location.hash = '';
  };

  return (
    <LangContext.Provider value={langValue}>
      <ConfigProvider locale={lang === 'zh' ? zhCN : enUS} theme={{ token: { colorPrimary: '#1677ff' } }}>
        <AntApp>
          {restoring ? (
            <Spin style={{ margin: 64 }} />
          ) : session ? (
            <SessionContext.Provider value={session}>
              <LiveProvider shopId={session.me.shopId} apiKey={session.key}>
                <Shell session={session} onSignOut={signOut} />
              </LiveProvider>
            </SessionContext.Provider>
          ) : (
            <Space style={{ width: '100%', justifyContent: 'center', marginTop: 96 }}>
              <SignInPage onSignIn={signIn} />
            </Space>
          )}
        </AntApp>
      </ConfigProvider>
    </LangContext.Provider>
  );
}
