import { describe, expect, it } from 'vitest';
import {
  candidatesByTopic,
  DEFAULT_DISTRIBUTION_SETTINGS,
  nextSlot,
  eligibleSince,
  planRun,
  runLimit,
  runOutcome,
  spreadRoundRobin,
  shopDay,
  validateDistributionSettings,
  withinWindows,
  type DistributionSettings,
} from '../../domain/distribution';

const settings = (windows: DistributionSettings['windows'], over: Partial<DistributionSettings> = {}): DistributionSettings => ({
  ...DEFAULT_DISTRIBUTION_SETTINGS,
  windows,
  ...over,
});
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('nextSlot', () => {
  it('fires at both ends of 09:00–09:30 (UTC shop)', () => {
    const s = settings([{ start: '09:00', end: '09:30' }]);
    expect(iso(nextSlot(at('2026-11-21T08:50:00Z'), s, 'UTC'))).toBe('2026-11-21T09:00:00.000Z');
    expect(iso(nextSlot(at('2026-11-21T09:00:00Z'), s, 'UTC'))).toBe('2026-11-21T09:00:00.000Z');
    expect(iso(nextSlot(at('2026-11-21T09:00:00.001Z'), s, 'UTC'))).toBe('2026-11-21T09:30:00.000Z');
    expect(iso(nextSlot(at('2026-11-21T09:30:01Z'), s, 'UTC'))).toBe('2026-11-22T09:00:00.000Z');
  });

  it('follows the shop time zone (Asia/Shanghai, UTC+8)', () => {
    const s = settings([{ start: '09:00', end: '10:00' }]);
    // 09:00 in Shanghai is 01:00 UTC.
    expect(iso(nextSlot(at('2026-11-21T00:10:00Z'), s, 'Asia/Shanghai'))).toBe('2026-11-21T01:00:00.000Z');
    expect(iso(nextSlot(at('2026-11-21T02:00:01Z'), s, 'Asia/Shanghai'))).toBe('2026-11-22T01:00:00.000Z');
  });

  it('crosses midnight: 23:00–01:00 fires 23:00, 23:30, 00:00, 00:30, 01:00', () => {
    const s = settings([{ start: '23:00', end: '01:00' }]);
    const fired: string[] = [];
    let t = at('2026-11-21T14:00:00Z'); // 22:00 in Shanghai
    for (let i = 0; i < 6; i++) {
      const slot = nextSlot(t, s, 'Asia/Shanghai')!;
      fired.push(new Date(slot + 8 * 3600_000).toISOString().slice(11, 16));
      t = slot + 1;
    }
    expect(fired).toEqual(['23:00', '23:30', '00:00', '00:30', '01:00', '23:00']);
  });

  it('keeps local half hours in zones offset by :30 and :45', () => {
    const s = settings([{ start: '09:00', end: '09:30' }]);
    expect(iso(nextSlot(at('2026-11-21T03:00:00Z'), s, 'Asia/Kolkata'))).toBe('2026-11-21T03:30:00.000Z'); // 09:00 IST
    expect(iso(nextSlot(at('2026-11-21T03:00:00Z'), s, 'Asia/Kathmandu'))).toBe('2026-11-21T03:15:00.000Z'); // 09:00 NPT
    expect(iso(nextSlot(at('2026-11-21T03:16:00Z'), s, 'Asia/Kathmandu'))).toBe('2026-11-21T03:45:00.000Z'); // 09:30 NPT
  });

  it('survives a DST jump (New York, 2026-03-08 02:00 → 03:00)', () => {
    const s = settings([{ start: '01:00', end: '04:00' }]);
    // 01:30 EST = 06:30 UTC; the next local half hour is 03:00 EDT = 07:00 UTC.
    expect(iso(nextSlot(at('2026-03-08T06:30:01Z'), s, 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z');
  });

  it('is null when distribution is off', () => {
    expect(nextSlot(at('2026-11-21T08:50:00Z'), settings([{ start: '09:00', end: '10:00' }], { enabled: false }), 'UTC')).toBeNull();
  });
});

describe('withinWindows (event-driven runs)', () => {
  it('a window covers from its first slot until the slot after its last', () => {
    const s = settings([{ start: '09:00', end: '09:30' }]);
    expect(withinWindows(at('2026-11-21T08:59:59Z'), s, 'UTC')).toBe(false);
    expect(withinWindows(at('2026-11-21T09:00:00Z'), s, 'UTC')).toBe(true);
    expect(withinWindows(at('2026-11-21T09:59:59Z'), s, 'UTC')).toBe(true);
    expect(withinWindows(at('2026-11-21T10:00:00Z'), s, 'UTC')).toBe(false);
  });

  it('the default window covers the whole day; off is never inside', () => {
    expect(withinWindows(at('2026-11-21T23:45:00Z'), DEFAULT_DISTRIBUTION_SETTINGS, 'UTC')).toBe(true);
    expect(withinWindows(at('2026-11-21T12:00:00Z'), { ...DEFAULT_DISTRIBUTION_SETTINGS, enabled: false }, 'UTC')).toBe(false);
  });
});

describe('rules', () => {
  it('run limit is agents × cap, never above 5000', () => {
    expect(runLimit(20, 100)).toBe(2000);
    expect(runLimit(10, 10)).toBe(100);
    expect(runLimit(200, 100)).toBe(5000);
  });

  it('shop day is the local calendar day', () => {
    expect(shopDay(at('2026-11-21T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-22');
    expect(shopDay(at('2026-11-21T17:00:00Z'), 'UTC')).toBe('2026-11-21');
  });

  it('validates windows, target and numbers with stable codes', () => {
    const code = (over: Partial<DistributionSettings>, tz?: string) =>
      validateDistributionSettings({ ...DEFAULT_DISTRIBUTION_SETTINGS, ...over }, tz)?.code ?? null;
    expect(code({})).toBeNull();
    expect(code({ windows: [{ start: '09:15', end: '10:00' }] })).toBe('window_not_on_half_hour');
    expect(code({ windows: [{ start: '9:00', end: '10:00' }] })).toBe('window_not_on_half_hour');
    expect(code({ windows: [] })).toBe('invalid_windows');
    expect(
      code({
        windows: [
          { start: '09:00', end: '11:00' },
          { start: '10:30', end: '12:00' },
        ],
      }),
    ).toBe('windows_overlap');
    expect(
      code({
        windows: [
          { start: '22:00', end: '01:00' },
          { start: '00:30', end: '02:00' },
        ],
      }),
    ).toBe('windows_overlap');
    expect(
      code({
        windows: [
          { start: '09:00', end: '10:00' },
          { start: '10:30', end: '11:00' },
        ],
      }),
    ).toBeNull();
    expect(code({ target: { kind: 'groups', groupIds: [] } })).toBe('invalid_target');
    expect(code({ target: { kind: 'nobody' } as never })).toBe('invalid_target');
    expect(code({ minOnlineAgents: -1 })).toBe('invalid_number');
    expect(code({ perAgentCap: 2.5 })).toBe('invalid_number');
    expect(code({ maxAvgPending: -0.5 })).toBe('invalid_number');
    expect(code({ maxAvgPending: 2.5 })).toBeNull();
    expect(code({ scope: 'some' as never })).toBe('invalid_scope');
    expect(code({}, 'Mars/Base')).toBe('invalid_time_zone');
  });
});

describe('the run planner', () => {
  const base = settings([{ start: '09:00', end: '10:00' }]);
  const agent = (id: string, status: string, activeSessions = 0, capacity = 5) => ({ id, status, activeSessions, capacity });

  it('checks the minimum online and the average pending, and takes online × cap under the hard cap', () => {
    const target = [agent('a', 'online', 2), agent('b', 'online', 4), agent('c', 'suspended')];
    expect(planRun({ trigger: 'scheduled', settings: { ...base, minOnlineAgents: 3 }, target })).toMatchObject({
      onlineAgents: 2,
      failure: 'insufficient_online_agents',
      runLimit: 0,
    });
    expect(planRun({ trigger: 'scheduled', settings: { ...base, maxAvgPending: 2.5 }, target })).toMatchObject({
      avgPending: 3,
      failure: 'avg_pending_exceeded',
    });
    const ok = planRun({ trigger: 'manual', settings: { ...base, perAgentCap: 10 }, target });
    expect([ok.failure, ok.runLimit, ok.assignees.map((a) => a.id)]).toEqual([null, 20, ['a', 'b']]);
    const many = Array.from({ length: 100 }, (_, i) => agent(`x${i}`, 'online'));
    expect(planRun({ trigger: 'scheduled', settings: { ...base, perAgentCap: 100 }, target: many }).runLimit).toBe(5000);
  });

  it('an agent-available run fills that agent’s free seats and checks no condition', () => {
    const target = [agent('a', 'online', 3, 5), agent('b', 'online')];
    const plan = planRun({ trigger: 'agent_available', agentId: 'a', settings: { ...base, minOnlineAgents: 10 }, target });
    expect([plan.failure, plan.runLimit, plan.assignees.map((a) => a.id)]).toEqual([null, 2, ['a']]);
    expect(planRun({ trigger: 'agent_available', agentId: 'a', settings: base, target: [agent('a', 'online', 5, 5)] }).failure).toBe(
      'nothing_eligible',
    );
  });

  it('routing rules give a topic to the agents of the groups covering it, or to anyone when none does', () => {
    const groups = [{ id: 'g1', scopes: ['presales'] }];
    const members = [{ group_id: 'g1', agent_id: 'a' }];
    const byTopic = candidatesByTopic(
      { ...base, target: { kind: 'routing_rules' } },
      ['a', 'b'],
      ['presales', 'aftersales'],
      groups,
      members,
    );
    expect(Object.fromEntries(byTopic)).toEqual({ presales: ['a'], aftersales: ['a', 'b'] });
    expect(
      Object.fromEntries(candidatesByTopic({ ...base, target: { kind: 'routing_rules' } }, ['b'], ['presales'], groups, members)),
    ).toEqual({});
  });
});

describe('the spread and the outcome', () => {
  it('spreads each topic round-robin over its agents, in their order, newest first', () => {
    const picked = [
      { id: 9, topic: 'pre' },
      { id: 8, topic: 'after' },
      { id: 7, topic: 'pre' },
      { id: 6, topic: 'pre' },
      { id: 5, topic: 'after' },
    ];
    const candidates = new Map([
      ['pre', ['a', 'b']],
      ['after', ['c']],
    ]);
    expect(spreadRoundRobin(picked, candidates)).toEqual([
      { id: 9, agentId: 'a' },
      { id: 8, agentId: 'c' },
      { id: 7, agentId: 'b' },
      { id: 6, agentId: 'a' },
      { id: 5, agentId: 'c' },
    ]);
  });

  it('nothing to assign succeeds; a failed condition fails; the window is the last 24 h', () => {
    expect(runOutcome(null)).toEqual({ outcome: 'succeeded', failureReason: null });
    expect(runOutcome('nothing_eligible')).toEqual({ outcome: 'succeeded', failureReason: null });
    expect(runOutcome('avg_pending_exceeded')).toEqual({ outcome: 'failed', failureReason: 'avg_pending_exceeded' });
    expect(eligibleSince('2026-03-10T08:00:00.000Z')).toBe('2026-03-09T08:00:00.000Z');
  });
});
