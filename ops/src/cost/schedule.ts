/**
 * How many hours a month a host runs under its group's start/stop scheduled actions: each action's
 * Recurrence is a cron expression "minute hour day-of-month month day-of-week" in its TimeZone. Only the
 * simple weekly shape is read — one minute, one hour, any day of the month, any month, days of the week
 * (`*`, names SUN-SAT or numbers 0-7, lists and ranges) — the shape `schedule` in the deployment config
 * writes ("0 8 * * MON-FRI"). The week is walked minute by minute of the actions; the state at the start
 * of the week is the one the last action of the week left, so a stop after midnight counts too.
 * Running hours a month = running hours a week x 730 / 168. The time zone does not change the hours
 * (a daylight-saving change moves an hour once or twice a year, which is ignored); anything else
 * (day-of-month or month fields, steps, several hours, a one-off StartTime) cannot be estimated, and
 * says why.
 */
import { HOURS_PER_MONTH } from '../contract';
import { Decimal } from './decimal';
import type { HostSchedule, ScheduledActionInfo } from './model';

const MINUTES_PER_WEEK = 7 * 24 * 60;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export interface ScheduleHours {
  /** Hours a week the host runs. */
  readonly weeklyHours: Decimal;
  /** weeklyHours x 730 / 168. */
  readonly monthlyHours: Decimal;
  /** Running hours / 730: the share of the month the host runs. */
  readonly fraction: Decimal;
  /** e.g. "starts 0 8 * * MON-FRI, stops 0 20 * * MON-FRI (Europe/Berlin)". */
  readonly description: string;
}

export type ScheduleEstimate = { readonly ok: true; readonly hours: ScheduleHours } | { readonly ok: false; readonly reason: string };

interface Recurrence {
  readonly minute: number;
  readonly hour: number;
  readonly days: readonly number[];
}

function dayNumber(token: string): number | undefined {
  const byName = DAY_NAMES.indexOf(token.toUpperCase());
  if (byName >= 0) return byName;
  if (/^[0-7]$/.test(token)) return Number(token) % 7;
  return undefined;
}

/** The days (0 = Sunday) of a day-of-week field, or undefined when it is not a simple one. */
function parseDays(field: string): number[] | undefined {
  if (field === '*' || field === '?') return [0, 1, 2, 3, 4, 5, 6];
  const days = new Set<number>();
  for (const part of field.split(',')) {
    const ends = part.split('-');
    if (ends.length > 2) return undefined;
    const first = dayNumber(ends[0]);
    const last = ends.length === 2 ? dayNumber(ends[1]) : first;
    if (first === undefined || last === undefined) return undefined;
    // "5-0" / "FRI-SUN" style: a range may run over the end of the week; 7 (Sunday) ends a range as 7.
    const end = ends.length === 2 && ends[1] === '7' ? 7 : last;
    if (end < first) {
      for (let d = first; d <= 6; d += 1) days.add(d);
      for (let d = 0; d <= end; d += 1) days.add(d);
    } else {
      for (let d = first; d <= end; d += 1) days.add(d % 7);
    }
  }
  return [...days].sort((a, b) => a - b);
}

/** A simple weekly recurrence, or why it is not one. */
export function parseRecurrence(expression: string): Recurrence | string {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return `"${expression}" is not a cron expression of 5 fields (minute hour day-of-month month day-of-week)`;
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields;
  if (!/^\d{1,2}$/.test(minute) || Number(minute) > 59) return `"${expression}": only a single minute (0-59) is estimated, not "${minute}"`;
  if (!/^\d{1,2}$/.test(hour) || Number(hour) > 23) return `"${expression}": only a single hour (0-23) is estimated, not "${hour}"`;
  if (dayOfMonth !== '*' && dayOfMonth !== '?') return `"${expression}": a day-of-month field ("${dayOfMonth}") is not estimated, only days of the week`;
  if (month !== '*') return `"${expression}": a month field ("${month}") is not estimated, only days of the week`;
  const days = parseDays(dayOfWeek);
  if (!days) return `"${expression}": the day-of-week field "${dayOfWeek}" is not names SUN-SAT or numbers 0-7, in lists and ranges`;
  return { minute: Number(minute), hour: Number(hour), days };
}

function describe(actions: readonly ScheduledActionInfo[]): string {
  const zones = [...new Set(actions.map((a) => a.timeZone ?? 'UTC'))];
  const starts = (a: ScheduledActionInfo) => (a.desiredCapacity ?? 0) > 0;
  const text = [...actions.filter(starts), ...actions.filter((a) => !starts(a))]
    .map((a) => `${starts(a) ? 'starts' : 'stops'} ${a.recurrence ?? '(no recurrence)'}`)
    .join(', ');
  return `${text} (${zones.join(', ')})`;
}

/** Running hours of the host under `schedule`, or why they cannot be estimated. */
export function scheduleHours(schedule: HostSchedule): ScheduleEstimate {
  const actions = schedule.actions;
  if (actions.length === 0) return { ok: false, reason: 'no scheduled actions' };
  const events: { minute: number; running: boolean; id: string }[] = [];
  for (const action of actions) {
    if (action.recurrence === undefined) return { ok: false, reason: `${action.logicalId} has no Recurrence (a one-off action): only recurring weekly schedules are estimated` };
    if (action.desiredCapacity === undefined) return { ok: false, reason: `${action.logicalId} sets no DesiredCapacity or MinSize: whether it starts or stops the host is not known` };
    const recurrence = parseRecurrence(action.recurrence);
    if (typeof recurrence === 'string') return { ok: false, reason: `${action.logicalId}: ${recurrence}` };
    for (const day of recurrence.days) {
      events.push({ minute: day * 1440 + recurrence.hour * 60 + recurrence.minute, running: action.desiredCapacity > 0, id: action.logicalId });
    }
  }
  events.sort((a, b) => a.minute - b.minute);
  for (let i = 1; i < events.length; i += 1) {
    if (events[i].minute === events[i - 1].minute && events[i].running !== events[i - 1].running) {
      return { ok: false, reason: `${events[i - 1].id} and ${events[i].id} start and stop the host at the same minute` };
    }
  }
  let running = events[events.length - 1].running;
  let since = 0;
  let runningMinutes = 0;
  for (const event of events) {
    if (running) runningMinutes += event.minute - since;
    since = event.minute;
    running = event.running;
  }
  if (running) runningMinutes += MINUTES_PER_WEEK - since;
  const weeklyHours = Decimal.of(runningMinutes).div(60);
  const monthlyHours = Decimal.of(runningMinutes).mul(HOURS_PER_MONTH).div(MINUTES_PER_WEEK);
  return {
    ok: true,
    hours: { weeklyHours, monthlyHours, fraction: Decimal.of(runningMinutes).div(MINUTES_PER_WEEK), description: describe(actions) },
  };
}
