/**
 * 服务数据 (docs/rules.md §10): the shop's service figures for a range — a chart by day (first-response
 * times and volumes), and tables by day, agent and group, each exportable as CSV. An agent's key sees
 * its own figures only (the API filters).
 */
import { useMemo, useState } from 'react';
import { Button, Card, DatePicker, Segmented, Space, Statistic, Table, Typography } from 'antd';
import { DualAxes } from '@ant-design/plots';
import dayjs, { type Dayjs } from 'dayjs';
import { ok, type Schemas } from '../api';
import { useT, type MessageKey } from '../i18n';
import { ErrorAlert, useLoad } from '../load';
import { useSignedIn } from '../session';

type Grouping = 'day' | 'agent' | 'group';
type Row = Schemas['ServiceReportRow'];

const percent = (v: number | null) => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);
const num = (v: number | null) => (v === null ? '—' : String(v));

/** The columns of every table and CSV: one list, so the export is what is shown. */
const COLUMNS: { title: MessageKey; value: (r: Row) => string }[] = [
  { title: 'svcServed', value: (r) => String(r.sessionsServed) },
  { title: 'svcFrtP50', value: (r) => num(r.firstResponse.p50Seconds) },
  { title: 'svcFrtP90', value: (r) => num(r.firstResponse.p90Seconds) },
  { title: 'svcWithin30', value: (r) => percent(r.firstResponse.within30sShare) },
  { title: 'svcWithin3m', value: (r) => percent(r.firstResponse.within3minShare) },
  { title: 'svcAvgResponse', value: (r) => num(r.avgResponseSeconds) },
  { title: 'svcQueueP50', value: (r) => num(r.queueWait.p50Seconds) },
  { title: 'svcQueueP90', value: (r) => num(r.queueWait.p90Seconds) },
  { title: 'svcAbandoned', value: (r) => String(r.abandoned.leftQueue + r.abandoned.queueTimeout) },
  { title: 'svcTimeouts', value: (r) => String(r.agentReplyTimeouts) },
  { title: 'svcOfflineCreated', value: (r) => String(r.offlineMessages.created) },
  { title: 'svcOfflineAssigned', value: (r) => `${r.offlineMessages.assignedAuto}/${r.offlineMessages.assignedManual}` },
  { title: 'svcTransfers', value: (r) => String(r.transfers) },
  { title: 'svcReroutes', value: (r) => String(r.reroutes) },
];

function downloadCsv(name: string, header: string[], lines: string[][]): void {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  // A BOM so that spreadsheet software reads the Chinese headers as UTF-8.
  const csv = '\uFEFF' + [header, ...lines].map((l) => l.map(quote).join(',')).join('\n');
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  a.click();
  URL.revokeObjectURL(url);
}

function FiguresTable({ grouping, range }: { grouping: Grouping; range: [Dayjs, Dayjs] }) {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const from = range[0].format('YYYY-MM-DD');
  const to = range[1].format('YYYY-MM-DD');
  const report = useLoad(
    () =>
      ok(
        api.GET('/v1/shops/{shopId}/reports/service', { params: { path: { shopId: me.shopId }, query: { from, to, groupBy: grouping } } }),
      ),
    [from, to, grouping],
  );
  const rows = (report.data?.rows ?? []) as Row[];
  const exportCsv = () =>
    downloadCsv(
      `service-${grouping}-${from}-${to}.csv`,
      [t('svcKey'), ...COLUMNS.map((c) => t(c.title))],
      rows.map((r) => [r.label, ...COLUMNS.map((c) => c.value(r))]),
    );
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <ErrorAlert error={report.error} />
      {grouping === 'day' && report.data && <DayChart rows={rows} title={t('svcChartTitle')} />}
      <Button onClick={exportCsv} disabled={!report.data} data-testid={`export-${grouping}`}>
        {t('svcExport')}
      </Button>
      <Table<Row>
        size="small"
        rowKey="key"
        loading={report.loading}
        dataSource={rows}
        pagination={false}
        scroll={{ x: true }}
        data-testid={`service-table-${grouping}`}
        columns={[
          { title: t('svcKey'), dataIndex: 'label', fixed: 'left' },
          ...COLUMNS.map((c) => ({ title: t(c.title), key: c.title, render: (_: unknown, r: Row) => c.value(r) })),
        ]}
      />
    </Space>
  );
}

/** Sessions served as columns, first-response p50 / p90 as lines, one point per day. */
function DayChart({ rows, title }: { rows: Row[]; title: string }) {
  const { t } = useT();
  const data = useMemo(
    () =>
      rows.map((r) => ({
        day: r.key.slice(5),
        // The legend names each series by this value (the field's name otherwise: "served").
        volume: t('svcServed'),
        served: r.sessionsServed,
        p50: r.firstResponse.p50Seconds,
        p90: r.firstResponse.p90Seconds,
      })),
    [rows, t],
  );
  const lines = useMemo(
    () =>
      data.flatMap((d) => [
        { day: d.day, series: t('svcFrtP50'), seconds: d.p50 },
        { day: d.day, series: t('svcFrtP90'), seconds: d.p90 },
      ]),
    [data, t],
  );
  return (
    <Card size="small" title={title} data-testid="service-chart">
      <DualAxes
        xField="day"
        height={260}
        legend={{ color: { position: 'top' } }}
        children={[
          {
            data,
            type: 'interval',
            yField: 'served',
            colorField: 'volume',
            scale: { color: { range: ['#91caff'] } },
            axis: { y: { title: t('svcServed') } },
          },
          { data: lines, type: 'line', yField: 'seconds', colorField: 'series', axis: { y: { position: 'right', title: 's' } } },
        ]}
      />
    </Card>
  );
}

export function ServiceLevelsPage() {
  const { t } = useT();
  const [range, setRange] = useState<[Dayjs, Dayjs]>([dayjs().subtract(6, 'day'), dayjs()]);
  const [grouping, setGrouping] = useState<Grouping>('day');
  const { api, me } = useSignedIn();
  const from = range[0].format('YYYY-MM-DD');
  const to = range[1].format('YYYY-MM-DD');
  const totals = useLoad(
    () =>
      ok(api.GET('/v1/shops/{shopId}/reports/service', { params: { path: { shopId: me.shopId }, query: { from, to, groupBy: 'day' } } })),
    [from, to],
  );
  const f = totals.data?.totals;
  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      <Space wrap>
        <span>{t('svcRange')}</span>
        <DatePicker.RangePicker
          value={range}
          allowClear={false}
          onChange={(v) => v?.[0] && v[1] && setRange([v[0], v[1]])}
          data-testid="service-range"
        />
        <Segmented<Grouping>
          value={grouping}
          onChange={setGrouping}
          options={[
            { label: t('svcByDay'), value: 'day' },
            { label: t('svcByAgent'), value: 'agent' },
            { label: t('svcByGroup'), value: 'group' },
          ]}
          data-testid="service-grouping"
        />
      </Space>
      {f && (
        <Space wrap size="large" data-testid="service-totals">
          <Statistic title={t('svcServed')} value={f.sessionsServed} />
          <Statistic title={t('svcFrtP50')} value={num(f.firstResponse.p50Seconds)} />
          <Statistic title={t('svcWithin30')} value={percent(f.firstResponse.within30sShare)} />
          <Statistic title={t('svcQueueP50')} value={num(f.queueWait.p50Seconds)} />
          <Statistic title={t('svcAbandoned')} value={f.abandoned.leftQueue + f.abandoned.queueTimeout} />
          <Statistic title={t('svcTimeouts')} value={f.agentReplyTimeouts} />
        </Space>
      )}
      <FiguresTable grouping={grouping} range={range} />
      <Typography.Text type="secondary">{t('svcNote')}</Typography.Text>
    </Space>
  );
}
