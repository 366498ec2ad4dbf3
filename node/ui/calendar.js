// The calendar (`/calendar?month=YYYY-MM`): the events of one month as an agenda grouped by day,
// with previous/next month links; cancelled events are struck through and labelled. Joint
// programmes appear on their planned start and planned end (whole days, as the node's schedule
// of a programme has them: `KindView::schedule` in node/src/kinds/programme.rs).

import { h, replace, getJson, errorBox, langText } from './dom.js';
import { t, pickText, fmtMonth, fmtLocal, topicName, getLang } from './i18n.js';
import { codeLabel, getMembers } from './data.js';

const MAX_PAGES = 10;

function pad(n) {
  return String(n).padStart(2, '0');
}

/** The month of the query (`month=YYYY-MM`), else this month on the reader's clock. */
function monthOf(query) {
  const m = /^(\d{4})-(\d{2})$/.exec(query.get('month') || '');
  if (m && +m[2] >= 1 && +m[2] <= 12) return { y: +m[1], m: +m[2] };
  const now = new Date();
  return { y: now.getFullYear(), m: now.getMonth() + 1 };
}

function shift({ y, m }, by) {
  const d = new Date(Date.UTC(y, m - 1 + by, 1));
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1 };
}

function key({ y, m }) {
  return `${y}-${pad(m)}`;
}

function day(d) {
  return d.toISOString().slice(0, 10);
}

export async function mount(main, state, ctx) {
  state.heading = h('h2', { class: 'month', 'aria-live': 'polite' });
  state.prev = h('a', { class: 'button secondary', rel: 'prev', 'data-testid': 'calendar-prev' });
  state.next = h('a', { class: 'button secondary', rel: 'next', 'data-testid': 'calendar-next' });
  state.now = h('a', { class: 'button secondary', 'data-testid': 'calendar-this' });
  state.body = h('div', { class: 'agenda' });
  main.append(
    h('h1', {}, t('cal.title')),
    h('p', { class: 'subscribe' }, h('a', { href: `/feeds/events.ics?kind=event&kind=programme&display_lang=${getLang()}`, 'data-testid': 'calendar-subscribe' }, t('cal.subscribe'))),
    h('nav', { class: 'month-nav', 'aria-label': t('cal.title') }, state.prev, state.heading, state.next, state.now),
    state.body,
  );
  await update(state, ctx);
}

export async function update(state, ctx) {
  const month = monthOf(ctx.query);
  const token = (state.token = (state.token || 0) + 1);
  const prev = shift(month, -1);
  const next = shift(month, 1);
  document.title = `${t('cal.title')}: ${fmtMonth(month.y, month.m)} · hubnet`;
  replace(state.heading, fmtMonth(month.y, month.m));
  state.prev.setAttribute('href', `/calendar?month=${key(prev)}`);
  replace(state.prev, h('span', { 'aria-hidden': 'true' }, '←'), t('cal.prev'));
  state.next.setAttribute('href', `/calendar?month=${key(next)}`);
  replace(state.next, t('cal.next'), h('span', { 'aria-hidden': 'true' }, '→'));
  state.now.setAttribute('href', '/calendar');
  replace(state.now, t('cal.this'));
  replace(state.body, h('p', { class: 'loading' }, t('loading')));

  // The API filters by UTC instants; events are dated by their local time. Ask for a day more on
  // each side and keep those whose local date falls in the month.
  const from = new Date(Date.UTC(month.y, month.m - 1, 0));
  const to = new Date(Date.UTC(month.y, month.m, 1));
  const events = [];
  try {
    await getMembers().catch(() => null);
    let cursor = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const p = new URLSearchParams({ kind: 'event', sort: 'start', start_from: day(from), start_to: day(to), limit: '100' });
      if (cursor) p.set('cursor', cursor);
      const answer = await getJson(`/api/v1/records?${p}`);
      if (token !== state.token || !ctx.alive()) return;
      for (const r of Array.isArray(answer?.records) ? answer.records : []) events.push(r);
      cursor = typeof answer?.next_cursor === 'string' && answer.next_cursor ? answer.next_cursor : null;
      if (!cursor) break;
    }
  } catch (e) {
    if (token !== state.token || !ctx.alive()) return;
    replace(state.body, errorBox(e.message));
    return;
  }
  const programmes = await loadProgrammes();
  if (token !== state.token || !ctx.alive()) return;
  const prefix = key(month);
  const inMonth = events
    .map((r) => ({ r, c: r.current && typeof r.current === 'object' ? r.current : r.body || {} }))
    .filter(({ c }) => typeof c.start === 'string' && c.start.startsWith(prefix))
    .concat(programmeDays(programmes, prefix))
    .sort((a, b) => a.c.start.localeCompare(b.c.start));
  if (inMonth.length === 0) {
    replace(state.body, h('p', { class: 'empty' }, t('cal.none')));
    findNext(state, ctx, token, next);
    return;
  }
  const days = new Map();
  for (const e of inMonth) {
    const d = e.c.start.slice(0, 10);
    if (!days.has(d)) days.set(d, []);
    days.get(d).push(e);
  }
  replace(
    state.body,
    h('p', { class: 'count' }, inMonth.length === 1 ? t('cal.count_one') : t('cal.count', { n: inMonth.length })),
    [...days.entries()].map(([d, list]) =>
      h(
        'section',
        { class: 'day' },
        h('h3', {}, h('time', { datetime: d }, fmtLocal(d))),
        h('ul', { class: 'events' }, list.map((e) => (e.edge ? programmeItem(e) : eventItem(e)))),
      ),
    ),
  );
}

function eventItem({ r, c }) {
  const title = pickText(c.title);
  const cancelled = c.status === 'cancelled';
  const time = /T(\d{2}:\d{2})/.exec(c.start)?.[1];
  const endTime = /T(\d{2}:\d{2})/.exec(c.end || '')?.[1];
  const endDay = typeof c.end === 'string' ? c.end.slice(0, 10) : '';
  const place = pickText(c.place?.name) || pickText(c.place?.address);
  const link = h('a', { href: `/records/${encodeURIComponent(r.id)}`, lang: title?.lang }, title ? title.text : r.id);
  return h(
    'li',
    { class: `event${cancelled ? ' cancelled' : ''}${c.status === 'postponed' ? ' postponed' : ''}`, 'data-testid': 'calendar-event', 'data-id': r.id, 'data-status': c.status || 'scheduled' },
    h(
      'p',
      { class: 'when' },
      time ? h('time', { datetime: c.start }, time) : null,
      endDay && endDay !== c.start.slice(0, 10) ? ` – ${fmtLocal(c.end)}` : endTime ? `–${endTime}` : null,
      c.time_zone ? h('span', { class: 'muted' }, ` ${c.time_zone}`) : null,
    ),
    h('p', { class: 'what' },
      cancelled ? h('s', {}, link) : link,
      cancelled ? [' ', h('span', { class: 'badge danger' }, t('status.cancelled'))] : null,
      c.status === 'postponed' ? [' ', h('span', { class: 'badge warn' }, t('status.postponed'))] : null,
      r.amendment ? [' ', h('span', { class: 'badge info' }, t('badge.amended'))] : null,
    ),
    h(
      'p',
      { class: 'meta' },
      c.event_type ? t(`type.${c.event_type}`) : null,
      ' · ',
      codeLabel(c.country || r.member),
      place ? [' · ', langText('span', place)] : null,
      c.online_url ? [' · ', t('record.online')] : null,
    ),
    Array.isArray(c.topics) && c.topics.length
      ? h('ul', { class: 'tags' }, c.topics.map((x) => h('li', {}, topicName(x))))
      : null,
  );
}

/**
 * Every programme the node holds (`GET /api/v1/records?kind=programme`, a few pages); none when
 * the node cannot list them (the calendar then shows events only).
 */
async function loadProgrammes() {
  const out = [];
  try {
    let cursor = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const p = new URLSearchParams({ kind: 'programme', limit: '100' });
      if (cursor) p.set('cursor', cursor);
      const answer = await getJson(`/api/v1/records?${p}`);
      for (const r of Array.isArray(answer?.records) ? answer.records : []) out.push(r);
      cursor = typeof answer?.next_cursor === 'string' && answer.next_cursor ? answer.next_cursor : null;
      if (!cursor) break;
    }
  } catch {
    // Programmes are an addition to the events; without them the month still shows.
  }
  return out;
}

/** The planned starts and ends of programmes that fall in the month `prefix` (YYYY-MM). */
function programmeDays(programmes, prefix) {
  const out = [];
  for (const r of programmes) {
    const c = r.current && typeof r.current === 'object' ? r.current : r.body || {};
    if (c.kind !== undefined && c.kind !== 'programme') continue;
    for (const [edge, date] of [['start', c.planned_start], ['end', c.planned_end]]) {
      if (typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) && date.startsWith(prefix)) {
        out.push({ r, c: { ...c, start: date }, edge });
      }
    }
  }
  return out;
}

/** A programme's planned start or end in the agenda. */
function programmeItem({ r, c, edge }) {
  const title = pickText(c.title);
  const cancelled = c.status === 'cancelled';
  const link = h('a', { href: `/records/${encodeURIComponent(r.id)}`, lang: title?.lang }, title ? title.text : r.id);
  return h(
    'li',
    { class: `event programme${cancelled ? ' cancelled' : ''}`, 'data-testid': 'calendar-programme', 'data-id': r.id, 'data-edge': edge },
    h('p', { class: 'when' }, h('span', { class: 'badge kind-programme' }, t(edge === 'start' ? 'cal.programme_starts' : 'cal.programme_ends'))),
    h('p', { class: 'what' }, cancelled ? h('s', {}, link) : link,
      c.status ? [' ', h('span', { class: `badge ${cancelled ? 'danger' : 'info'}` }, t(`programme.status.${c.status}`))] : null),
    h('p', { class: 'meta' }, t('kind.programme'), ' · ', codeLabel(r.member),
      c.planned_start ? [' · ', `${fmtLocal(c.planned_start)}${c.planned_end ? ` – ${fmtLocal(c.planned_end)}` : ''}`] : null),
  );
}

/** For an empty month: a link to the next month that has an event. */
async function findNext(state, ctx, token, next) {
  try {
    const p = new URLSearchParams({
      kind: 'event',
      sort: 'start',
      start_from: `${key(next)}-01`,
      limit: '1',
    });
    const answer = await getJson(`/api/v1/records?${p}`);
    if (token !== state.token || !ctx.alive()) return;
    const r = answer?.records?.[0];
    const c = r?.current || r?.body;
    const m = /^(\d{4})-(\d{2})/.exec(c?.start || '');
    if (!m) return;
    state.body.append(
      h('p', {}, h('a', { href: `/calendar?month=${m[1]}-${m[2]}`, 'data-testid': 'calendar-next-event' },
        t('cal.next_event', { month: fmtMonth(+m[1], +m[2]) }))),
    );
  } catch {
    // Only a hint; the month itself was shown.
  }
}
