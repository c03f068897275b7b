/**
 * Handoffs on the console (docs/rules.md §9): 转接 to a colleague or a routing group with a note,
 * the assignment reason in words, and a countdown to the timer that will act on the session.
 */
import { useEffect, useState } from 'react';
import { App, Button, Form, Input, Modal, Segmented, Select, Typography } from 'antd';
import { TRANSFER_NOTE_MAX_LENGTH } from '../../../domain/limits';
import { ok, type Schemas } from '../api';
import { useT, type Translate } from '../i18n';
import { errorText, useLoad } from '../load';
import { useSignedIn } from '../session';

/** The reason an assignment was made, as the agent reads it (分流分配, 排队分配, 转接, 离线留言分配, …). */
export function assignmentReasonText(t: Translate, reason: string): string {
  const text = t(`assign_${reason}`);
  return text === `assign_${reason}` ? reason : text;
}

/** 转接: pick an online colleague with a free seat, or a group; an optional note. */
export function TransferButton({ session, onDone }: { session: Schemas['Session']; onDone?: () => void }) {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<'agent' | 'group'>('agent');
  const [target, setTarget] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const shop = { path: { shopId: me.shopId } };
  const options = useLoad(async () => {
    if (!open) return null;
    const [agents, groups] = await Promise.all([
      ok(api.GET('/v1/shops/{shopId}/agents', { params: shop })),
      ok(api.GET('/v1/shops/{shopId}/groups', { params: shop })),
    ]);
    return { agents: agents.items ?? [], groups: groups.items ?? [] };
  }, [open]);
  useEffect(() => setTarget(null), [kind]);

  const submit = async () => {
    if (!target || !session.sessionId) return;
    setBusy(true);
    try {
      await ok(
        api.POST('/v1/shops/{shopId}/sessions/{sessionId}/transfer', {
          params: { path: { shopId: me.shopId, sessionId: session.sessionId } },
          body: { ...(kind === 'agent' ? { toAgentId: target } : { toGroupId: target }), ...(note ? { note } : {}) },
        }),
      );
      void message.success(t('transferDone'));
      setOpen(false);
      setNote('');
      onDone?.();
    } catch (err) {
      void message.error(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  const agents = (options.data?.agents ?? []).filter((a) => a.id !== session.agentId);
  return (
    <>
      <Button
        size="small"
        onClick={(e) => {
          e.stopPropagation();
          setOpen(true);
        }}
        data-testid={`transfer-${session.sessionId}`}
      >
        {t('transfer')}
      </Button>
      <Modal
        open={open}
        title={t('transferTitle', { session: session.sessionId ?? '' })}
        onCancel={() => setOpen(false)}
        onOk={() => void submit()}
        okButtonProps={{ disabled: !target, loading: busy, ...({ 'data-testid': 'transfer-confirm' } as object) }}
        destroyOnHidden
      >
        <Form layout="vertical" onClick={(e) => e.stopPropagation()}>
          <Form.Item>
            <Segmented
              value={kind}
              onChange={(v) => setKind(v as 'agent' | 'group')}
              options={[
                { value: 'agent', label: t('transferToAgent') },
                { value: 'group', label: t('transferToGroup') },
              ]}
              data-testid="transfer-kind"
            />
          </Form.Item>
          <Form.Item label={kind === 'agent' ? t('pickAgent') : t('pickGroup')}>
            <Select
              showSearch={{ optionFilterProp: 'label' }}
              value={target}
              onChange={setTarget}
              data-testid="transfer-target"
              options={
                kind === 'agent'
                  ? agents.map((a) => ({
                      value: a.id,
                      label: `${a.name} · ${t(a.status)} · ${a.activeSessions}/${a.capacity}`,
                      disabled: a.status !== 'online' || a.activeSessions >= a.capacity,
                    }))
                  : (options.data?.groups ?? []).map((g) => ({ value: g.id, label: g.name }))
              }
            />
          </Form.Item>
          <Form.Item label={t('transferNote')}>
            <Input.TextArea
              value={note}
              onChange={(e) => setNote(e.target.value)}
              maxLength={TRANSFER_NOTE_MAX_LENGTH}
              showCount
              rows={3}
              data-testid="transfer-note"
            />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}

const left = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s % 60).padStart(2, '0')}s`;
};

/** Which timer acts on the session next, and when: the close rule, or the first-reply re-route. */
export function SessionCountdown({ sessionId }: { sessionId: string }) {
  const { api, me } = useSignedIn();
  const { t } = useT();
  const [now, setNow] = useState(() => Date.now());
  const detail = useLoad(
    () => ok(api.GET('/v1/shops/{shopId}/sessions/{sessionId}', { params: { path: { shopId: me.shopId, sessionId } } })),
    [sessionId],
  );
  const { reload } = detail;
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    // Messages re-arm the timers without an event: read the run again now and then.
    const refresh = setInterval(reload, 30_000);
    return () => {
      clearInterval(timer);
      clearInterval(refresh);
    };
  }, [reload]);
  const live = detail.data?.live;
  if (!live?.nextDeadline) return null;
  const closeAt = Date.parse(live.nextDeadline.at);
  const firstReply = live.firstReplyAt ? Date.parse(live.firstReplyAt) : null;
  const text =
    firstReply !== null && firstReply < closeAt
      ? t('movesIn', { left: firstReply > now ? left(firstReply - now) : t('overdue') })
      : t('closesIn', { rule: t(`reason_${live.nextDeadline.reason}`), left: closeAt > now ? left(closeAt - now) : t('overdue') });
  return (
    <Typography.Text type={closeAt - now < 30 * 60_000 ? 'danger' : 'secondary'} data-testid={`countdown-${sessionId}`}>
      {text}
    </Typography.Text>
  );
}
