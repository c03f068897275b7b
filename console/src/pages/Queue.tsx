import { Empty, Table } from 'antd';
import { ok } from '../api';
import { useT } from '../i18n';
import { useShopEvents } from '../live';
import { duration, ErrorAlert, shopTime, useLoad } from '../load';
import { useSignedIn } from '../session';

/** 排队: the queue in serving order (1 = served next), updated as sessions queue and get agents. */
export function QueuePage() {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const queue = useLoad(
    () => ok(api.GET('/v1/shops/{shopId}/queue', { params: { path: { shopId: me.shopId }, query: { limit: 500 } } })),
    [],
  );
  useShopEvents(
    ['session.queued', 'session.assigned', 'session.transferred', 'session.rerouted', 'session.closed', 'offline_message.created'],
    queue.reload,
  );
  const now = Date.now();
  return (
    <>
      <ErrorAlert error={queue.error} />
      <Table
        data-testid="queue-table"
        rowKey="sessionId"
        size="small"
        pagination={false}
        loading={queue.loading && !queue.data}
        locale={{ emptyText: <Empty description={t('queueEmpty')} /> }}
        dataSource={queue.data?.items ?? []}
        columns={[
          { title: t('position'), dataIndex: 'position', width: 100 },
          { title: t('session'), dataIndex: 'sessionId' },
          { title: t('buyer'), dataIndex: 'buyerId' },
          { title: t('topic'), dataIndex: 'topic' },
          { title: t('queuedAt'), dataIndex: 'queuedAt', render: (v: string) => shopTime(v, me.timeZone) },
          { title: t('waited'), dataIndex: 'queuedAt', key: 'waited', render: (v: string) => duration(now - Date.parse(v)) },
        ]}
      />
    </>
  );
}
