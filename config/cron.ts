// Five-field cron schedules as Argo CD reads them (robfig/cron standard parser): each field parsed with its range,
// and the longest gap between two starts, to tell whether an allow window ever closes.
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** The first name's number: months count from 1, days from 0. */
  base?: number;
}
const FIELDS: Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, base: 1 },
  { name: "day of week", min: 0, max: 7, names: DAYS, base: 0 },
];

export interface Cron {
  minutes: number[];
  hours: number[];
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Both day fields restricted: a day matches either (cron's OR rule); otherwise both must match. */
  dayOr: boolean;
}

function value(f: Field, token: string): number | undefined {
  const named = f.names?.indexOf(token.toLowerCase()) ?? -1;
  if (named >= 0) return named + (f.base ?? 0);
  if (!/^\d{1,2}$/.test(token)) return undefined;
  const n = Number(token);
  return n >= f.min && n <= f.max ? n : undefined;
}

function parseField(f: Field, text: string): Set<number> | string {
  const out = new Set<number>();
  const wrong = `its ${f.name} field ${JSON.stringify(text)} is not ${f.min}-${f.max}${f.names ? " or a name" : ""}, '*', a list, range or step`;
  for (const part of text.split(",")) {
    const m = /^(\*|\?|[a-z0-9]+)(?:-([a-z0-9]+))?(?:\/(\d{1,2}))?$/i.exec(part);
    if (!m || (m[1] === "?" && f.name !== "day of month" && f.name !== "day of week")) return wrong;
    const star = m[1] === "*" || m[1] === "?";
    if (star && m[2] !== undefined) return wrong;
    const lo = star ? f.min : value(f, m[1]);
    const hi = star ? f.max : m[2] !== undefined ? value(f, m[2]) : m[3] !== undefined ? f.max : lo;
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (lo === undefined || hi === undefined || lo > hi || step < 1 || step > f.max) return wrong;
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

/** The parsed schedule, or what is wrong with it. */
export function parseCron(schedule: string): Cron | string {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 5) return "must be a five-field cron schedule such as '0 9 * * 1-4'";
  const sets: Array<Set<number>> = [];
  for (const [i, f] of FIELDS.entries()) {
    const s = parseField(f, parts[i]);
    if (typeof s === "string") return `must be a five-field cron schedule such as '0 9 * * 1-4': ${s}`;
    sets.push(s);
  }
  const weekdays = new Set([...sets[4]].map((d) => d % 7));
  const restricted = (i: number) => !/^[*?]/.test(parts[i]);
  return {
    minutes: [...sets[0]].sort((a, b) => a - b),
    hours: [...sets[1]].sort((a, b) => a - b),
    days: sets[2],
    months: sets[3],
    weekdays,
    dayOr: restricted(2) && restricted(4),
  };
}

const DAY_MS = 86_400_000;
// Four years from a leap year, so that February 29th schedules are seen; UTC (a zone's DST shifts are ignored).
const SPAN_START = Date.UTC(2028, 0, 1);
const SPAN_DAYS = 1461;

/** The longest time in minutes between two starts (Infinity when it never starts). */
export function longestGapMinutes(c: Cron): number {
  let first: number | undefined;
  let last: number | undefined;
  let gap = 0;
  for (let d = 0; d < SPAN_DAYS; d++) {
    const date = new Date(SPAN_START + d * DAY_MS);
    const dom = c.days.has(date.getUTCDate());
    const dow = c.weekdays.has(date.getUTCDay());
    if (!c.months.has(date.getUTCMonth() + 1) || !(c.dayOr ? dom || dow : dom && dow)) continue;
    for (const h of c.hours)
      for (const m of c.minutes) {
        const t = d * 1440 + h * 60 + m;
        if (last !== undefined) gap = Math.max(gap, t - last);
        first ??= t;
        last = t;
      }
  }
  if (first === undefined || last === undefined) return Infinity;
  return Math.max(gap, first + SPAN_DAYS * 1440 - last);
}
