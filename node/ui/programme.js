// The record page's parts for a joint programme (docs/PROTOCOL.md §2.2): its status and dates,
// the participants with their roles, contributions and standing, the results framework as a
// table and a chart of targets against actuals, the budget lines, related programmes and the
// records it links to; and, on a confirmation's own page, what it confirms.
//
// Where the programme stands is never taken from the node: `fillProgramme` loads
// `GET /api/v1/programmes/{id}`, checks every signed record it lists in this browser (verify.js
// `verifyRecord`, one at a time, against the trust of trust.js), keeps those that are what they
// must be (the programme's amendments and retraction by its author; confirmations that name this
// programme and one of its versions listing their author; withdrawals by the confirmation's
// author), derives the state from them (confirmations.js, the rule of
// `protocol/src/confirmations.rs`) and says loudly when the node's `state` or a member's
// `standing` differs from what the signed records say.

import { h, replace, getJson, langText, short, dataTable } from './dom.js';
import { t, pickText, topicName, fmtDate, fmtLocal, fmtNumber, getLang } from './i18n.js';
import { codeLabel } from './data.js';
import { fillInstitutionNames } from './directory.js';
import { verifyRecord } from './verify.js';
import { deriveProgramme } from './confirmations.js';
import { checkText } from './record.js';

const SVG = 'http://www.w3.org/2000/svg';
const HEX = /^[0-9a-f]{64}$/;

function obj(x) {
  return x && typeof x === 'object' && !Array.isArray(x) ? x : null;
}

function list(x) {
  return Array.isArray(x) ? x : [];
}

function dl(rows) {
  return h('dl', { class: 'facts-list' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** "250 000,00 KZT": a decimal amount string in the reader's language, exact (never rounded). */
export function fmtAmount(amount, currency) {
  const text = String(amount ?? '');
  if (!/^\d+(\.\d+)?$/.test(text)) return `${text} ${currency ?? ''}`.trim();
  try {
    // A string is formatted as the exact decimal it is (Intl.NumberFormat v3).
    const decimals = (text.split('.')[1] ?? '').length;
    const f = new Intl.NumberFormat(getLang() === 'kk' ? ['kk', 'ru'] : [getLang()], {
      style: 'currency', currency, currencyDisplay: 'code', minimumFractionDigits: decimals, maximumFractionDigits: Math.max(decimals, 0),
    });
    return f.format(text);
  } catch {
    return `${text} ${currency ?? ''}`.trim();
  }
}

function dateSpan(start, end) {
  if (!start) return null;
  return end ? `${fmtLocal(start)} – ${fmtLocal(end)}` : t('programme.from', { date: fmtLocal(start) });
}

/** A link to a record page, its text the record's title once `fillTitles` found it. */
function recordLink(id, testid) {
  const hexId = String(id ?? '').toLowerCase();
  if (!HEX.test(hexId)) return h('code', {}, String(id ?? ''));
  return h('a', { href: `/records/${hexId}`, 'data-title-of': hexId, 'data-testid': testid }, h('code', {}, short(hexId, 12)));
}

/**
 * Replaces the text of every link marked `data-title-of` under `root` with the record's title
 * (or name) as the node holds it (titles only: the record page it links to checks the
 * signature). A title that does not load leaves the short id.
 */
export function fillTitles(root, ctx) {
  const links = [...root.querySelectorAll('a[data-title-of]')];
  for (const id of new Set(links.map((a) => a.getAttribute('data-title-of')))) {
    getJson(`/api/v1/records/${id}/current`)
      .then((r) => {
        if (!ctx.alive()) return;
        const c = obj(r.current) || obj(r.body);
        const title = pickText(c?.title ?? c?.name);
        if (!title) return;
        for (const a of links.filter((x) => x.getAttribute('data-title-of') === id)) {
          a.setAttribute('lang', title.lang);
          a.textContent = title.text;
        }
      })
      .catch(() => {});
  }
}

/** The programme's facts: status, planned and actual dates, countries, topics, endorsement. */
export function programmeFacts(c) {
  const rows = [];
  if (c.status) {
    rows.push([t('record.status'), h('span', { class: `programme-status status-${c.status}`, 'data-testid': 'programme-status' },
      t(`programme.status.${c.status}`))]);
  }
  const planned = dateSpan(c.planned_start, c.planned_end);
  if (planned) rows.push([t('programme.planned'), planned]);
  const actual = dateSpan(c.actual_start, c.actual_end);
  if (actual) rows.push([t('programme.actual'), actual]);
  if (list(c.countries).length) rows.push([t('programme.countries'), list(c.countries).map(codeLabel).join(', ')]);
  if (list(c.topics).length) {
    rows.push([t('record.topics'), h('ul', { class: 'tags' }, list(c.topics).map((x) => h('li', {}, topicName(x))))]);
  }
  if (c.endorsed_by) rows.push([t('programme.endorsed_by'), h('code', {}, short(c.endorsed_by, 16))]);
  const objectives = pickText(c.objectives);
  return h('section', { class: 'programme-facts', 'data-testid': 'programme-facts' },
    dl(rows),
    objectives ? [h('h2', {}, t('programme.objectives')), langText('p', objectives)] : null);
}

/** A participant's name: a member's code and name, or a link to an institution's record. */
function who(p) {
  if (typeof p?.member === 'string') return h('strong', {}, codeLabel(p.member));
  if (typeof p?.institution === 'string' && HEX.test(p.institution.toLowerCase())) {
    const id = p.institution.toLowerCase();
    return h('a', { href: `/records/${id}`, 'data-institution-id': id }, h('code', {}, short(id, 12)));
  }
  return t('profile.none');
}

function contributions(p) {
  const cs = list(p?.contributions);
  if (!cs.length) return t('profile.none');
  return h('ul', { class: 'contributions' }, cs.map((c) => {
    const d = pickText(c?.description);
    return h('li', {}, h('span', { class: 'amount' }, fmtAmount(c?.amount, c?.currency)),
      c?.type ? [' · ', t(`contribution.${c.type}`)] : null,
      d ? [h('br'), langText('span', d, { class: 'muted' })] : null);
  }));
}

/** The participants table: each member's standing is filled in once the browser checked it. */
function participantsTable(c) {
  const headers = [t('programme.participant'), t('programme.roles'), t('programme.contributions'), t('programme.standing')];
  const rows = list(c.participants).map((p) => ({
    attrs: {
      'data-testid': 'participant',
      'data-member': typeof p?.member === 'string' ? p.member : null,
      'data-institution': typeof p?.institution === 'string' ? p.institution.toLowerCase() : null,
      'data-standing': typeof p?.member === 'string' ? 'pending' : 'institution',
      'data-verified': 'pending',
    },
    cells: [
      who(p),
      list(p?.roles).map((r) => t(`role.${r}`)).join(', ') || t('profile.none'),
      contributions(p),
      typeof p?.member === 'string'
        ? h('span', { class: 'standing pending' }, t('verify.pending'))
        : h('span', { class: 'muted' }, t('programme.institution_standing')),
    ],
  }));
  return dataTable(headers, rows, { block: true });
}

/** The results framework: one row per indicator period (or per indicator without periods). */
function resultsTable(results) {
  const headers = [t('programme.result'), t('programme.indicator'), t('profile.baseline'), t('programme.period'),
    t('profile.target'), t('programme.actual_value')];
  const rows = [];
  for (const r of results) {
    const title = pickText(r?.title);
    for (const x of list(r?.indicators)) {
      const name = pickText(x?.title);
      const unit = x?.measure === 'percentage' ? ' %' : '';
      const periods = list(x?.periods).length ? list(x.periods) : [null];
      for (const p of periods) {
        rows.push({
          attrs: { 'data-testid': 'result-row' },
          cells: [
            [r?.type ? h('span', { class: 'muted small' }, t(`result.${r.type}`), h('br')) : null, langText('span', title)],
            [langText('span', name), h('br'), h('span', { class: 'muted small' },
              t(x?.ascending ? 'compare.higher_better' : 'compare.lower_better'))],
            obj(x?.baseline) ? `${fmtNumber(x.baseline.value)}${unit} (${x.baseline.year})` : t('profile.none'),
            p ? `${fmtLocal(p.start)} – ${fmtLocal(p.end)}` : t('profile.none'),
            p ? `${fmtNumber(p.target)}${unit}` : t('profile.none'),
            p && typeof p.actual === 'number'
              ? h('strong', {}, `${fmtNumber(p.actual)}${unit}`)
              : h('span', { class: 'muted' }, p ? t('programme.not_reported') : t('profile.none')),
          ],
        });
      }
    }
  }
  return dataTable(headers, rows, { block: true });
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c);
  return el;
}

/**
 * One indicator's chart: for each period a bar of its target and a bar of its actual (none when
 * not reported), as inline SVG built here (no library, no inline style). The table above is its
 * text alternative; the chart names itself in its `<title>` and `aria-label`.
 */
export function indicatorChart(x, label) {
  const periods = list(x?.periods);
  const values = periods.flatMap((p) => [p.target, p.actual]).filter((v) => typeof v === 'number' && Number.isFinite(v));
  const max = Math.max(0, ...values);
  const min = Math.min(0, ...values);
  const W = 40 + periods.length * 90;
  const H = 180;
  const top = 16;
  const bottom = 150;
  const y = (v) => (max === min ? bottom : bottom - ((v - min) / (max - min)) * (bottom - top));
  const title = t('programme.chart_title', { indicator: label });
  const bars = periods.map((p, i) => {
    const x0 = 30 + i * 90;
    const bar = (v, dx, cls, what) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return null;
      const y0 = y(Math.max(v, 0));
      const y1 = y(Math.min(v, 0));
      return svg('rect', { x: x0 + dx, y: y0, width: 30, height: Math.max(1, y1 - y0), class: cls },
        svg('title', {}, `${what}: ${fmtNumber(v)}`));
    };
    return svg('g', { class: 'period' },
      bar(p.target, 4, 'bar-target', t('profile.target')),
      bar(p.actual, 38, 'bar-actual', t('programme.actual_value')),
      svg('text', { x: x0 + 36, y: H - 12, 'text-anchor': 'middle', class: 'axis-label' }, String(p.start ?? '').slice(0, 7)));
  });
  return h('figure', { class: 'results-chart' },
    svg('svg', {
      viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, 'data-testid': 'results-chart', class: 'chart',
      preserveAspectRatio: 'xMinYMin meet',
    },
    svg('title', {}, title),
    svg('line', { x1: 26, x2: W - 4, y1: y(0), y2: y(0), class: 'axis' }),
    svg('text', { x: 2, y: top + 4, class: 'axis-label' }, fmtNumber(max)),
    bars),
    h('figcaption', {}, h('span', { class: 'key key-target', 'aria-hidden': 'true' }), ' ', t('profile.target'), ' ',
      h('span', { class: 'key key-actual', 'aria-hidden': 'true' }), ' ', t('programme.actual_value'), ' · ', label));
}

function resultsSection(results) {
  const charts = [];
  for (const r of results) {
    for (const x of list(r?.indicators)) {
      if (list(x?.periods).length) charts.push(indicatorChart(x, pickText(x?.title)?.text ?? ''));
    }
  }
  return h('section', { class: 'programme-results', 'data-testid': 'programme-results' },
    h('h2', {}, t('programme.results')),
    results.length ? [resultsTable(results), charts.length ? h('div', { class: 'charts' }, charts) : null]
      : h('p', { class: 'empty' }, t('programme.no_results')));
}

function budgetSection(budget) {
  const headers = [t('programme.period'), t('programme.amount'), t('programme.budget_status')];
  const rows = budget.map((b) => ({
    attrs: { 'data-testid': 'budget-line' },
    cells: [dateSpan(b?.period_start, b?.period_end) ?? '', fmtAmount(b?.value, b?.currency),
      b?.status ? t(`budget.${b.status}`) : t('profile.none')],
  }));
  return h('section', { class: 'programme-budget', 'data-testid': 'programme-budget' },
    h('h2', {}, t('programme.budget')), dataTable(headers, rows, { block: true }));
}

/** Related programmes and the records it links to, titled once `fillTitles` found them. */
function linksSection(c) {
  const groups = [];
  const related = list(c.related);
  if (related.length) {
    groups.push([t('programme.related'), related.map((r) => h('li', {}, recordLink(r?.id, 'related-programme'),
      r?.relation ? [' ', h('span', { class: 'muted' }, `(${t(`relation.${r.relation}`)})`)] : null))]);
  }
  for (const k of ['practice_ids', 'event_ids', 'reform_profile_ids', 'institution_ids', 'expert_ids']) {
    const ids = list(c[k]);
    if (ids.length) groups.push([t(`programme.${k}`), ids.map((id) => h('li', {}, recordLink(id, 'linked-record')))]);
  }
  if (!groups.length) return null;
  return h('section', { class: 'programme-links', 'data-testid': 'programme-links' },
    h('h2', {}, t('programme.linked')),
    groups.map(([title, items]) => [h('h3', {}, title), h('ul', { class: 'links' }, items)]));
}

/** The programme's sections below its description. */
export function programmeSections(c) {
  return [
    h('section', { class: 'programme-participants', 'data-testid': 'programme-participants' },
      h('h2', {}, t('programme.participants')),
      h('div', { class: 'programme-state notice info', 'data-testid': 'programme-state', 'data-state': 'pending', role: 'status' },
        t('programme.state_pending')),
      h('div', { class: 'participants-table' }, participantsTable(c)),
      h('div', { class: 'programme-problems' })),
    resultsSection(list(c.results)),
    list(c.budget).length ? budgetSection(list(c.budget)) : null,
    linksSection(c),
  ];
}

/** A version of the programme from a verified record: its id, seq, time, terms and members. */
function versionOf(res, id, content) {
  return {
    id,
    seq: res.header.seq,
    createdAt: res.header.createdAt,
    terms: content ? content.terms : null,
    members: content ? list(content.participants).filter((p) => typeof p.member === 'string').map((p) => p.member) : [],
    content,
  };
}

/**
 * Checks each signed record of `GET /api/v1/programmes/{id}` and sorts out those that are what
 * they must be. Returns `{facts, versions, checked, problems}`: `checked` maps a record id to
 * `{ok, why, res}`; `problems` lists the records left out and why.
 */
export async function checkProgrammeRecords(id, records, trust) {
  const checked = new Map();
  const problems = [];
  const results = [];
  for (const rec of records) {
    const res = await verifyRecord(rec, trust, { kinds: ['programme', 'amendment', 'retraction', 'confirmation'] });
    const rid = String(rec?.id ?? '').toLowerCase();
    results.push({ rec, rid, res });
    if (!res.ok) {
      const bad = res.checks.find((c) => !c.ok);
      checked.set(rid, { ok: false, why: bad ? checkText(bad) : '', res });
      problems.push({ id: rid, member: typeof rec?.member === 'string' ? rec.member : null, why: bad ? checkText(bad) : '' });
    }
  }
  const ok = results.filter((x) => x.res.ok);
  const refuse = (x, why) => {
    checked.set(x.rid, { ok: false, why, res: x.res });
    problems.push({ id: x.rid, member: x.res.member, why });
  };
  const original = ok.find((x) => x.rid === id && x.res.header.kind === 'programme');
  if (!original) return { facts: null, versions: [], checked, problems };
  const author = original.res.author;
  checked.set(id, { ok: true, res: original.res });
  const versions = [versionOf(original.res, id, original.res.body)];
  let retraction = null;
  const confirmations = [];
  for (const x of ok) {
    if (x === original) continue;
    const b = x.res.body;
    if (b?.kind === 'amendment' && x.res.author === author) {
      if (b.content?.kind !== 'programme' || String(b.target ? hexOf(b.target) : '') !== id) refuse(x, t('programme.why.not_this'));
      else {
        versions.push(versionOf(x.res, x.rid, b.content));
        checked.set(x.rid, { ok: true, res: x.res });
      }
    } else if (b?.kind === 'retraction' && x.res.author === author && hexOf(b.target) === id) {
      retraction = x;
      checked.set(x.rid, { ok: true, res: x.res });
    } else if (b?.kind === 'confirmation') {
      confirmations.push(x);
    } else if (b?.kind !== 'retraction') {
      refuse(x, t('programme.why.not_this'));
    }
  }
  const facts = { author: original.res.member, retracted: retraction !== null, versions, confirmations: [] };
  const byId = new Map();
  for (const x of confirmations) {
    const b = x.res.body;
    const v = versions.find((w) => w.id === b.version);
    if (b.programme !== id) refuse(x, t('programme.why.other_programme', { id: short(b.programme, 12) }));
    else if (!v) refuse(x, t('programme.why.unknown_version', { id: short(b.version, 12) }));
    else if (!v.members.includes(x.res.member)) refuse(x, t('programme.why.not_listed', { code: x.res.member }));
    else {
      const c = { id: x.rid, member: x.res.member, author: x.res.author, createdAt: x.res.header.createdAt, version: b.version, retracted: null };
      facts.confirmations.push(c);
      byId.set(x.rid, c);
      checked.set(x.rid, { ok: true, res: x.res });
    }
  }
  // Withdrawals: retractions of a confirmation, by its author.
  for (const x of ok) {
    const b = x.res.body;
    if (b?.kind !== 'retraction' || x === retraction) continue;
    const c = byId.get(hexOf(b.target));
    if (!c || c.author !== x.res.author) refuse(x, t('programme.why.not_this'));
    else {
      c.retracted = { id: x.rid, createdAt: x.res.header.createdAt };
      checked.set(x.rid, { ok: true, res: x.res });
    }
  }
  return { facts, versions, checked, problems };
}

function hexOf(bytes) {
  let s = '';
  for (const b of bytes ?? []) s += b.toString(16).padStart(2, '0');
  return s;
}

/** A standing as the page says it. */
function standingText(p, checked) {
  switch (p.standing) {
    case 'lead':
      return t('standing.lead');
    case 'confirmed':
      return t('standing.confirmed');
    case 'reconfirm':
      return t('standing.reconfirm');
    case 'withdrawn': {
      const at = checked.get(p.retraction)?.res?.header?.createdAt;
      return t('standing.withdrawn', { date: at === undefined ? '?' : fmtDate(Number(at)) });
    }
    default:
      return t('standing.awaiting');
  }
}

/**
 * Checks the programme's records, derives its state and fills the participants table and the
 * state notice. `m` is the record page's model of the programme (its original id).
 */
export async function fillProgramme(main, m, trust, ctx) {
  const box = main.querySelector('[data-testid="programme-state"]');
  const table = main.querySelector('.participants-table');
  const problemsBox = main.querySelector('.programme-problems');
  if (!box || !table) return;
  let answer;
  try {
    answer = await getJson(`/api/v1/programmes/${m.id}`);
  } catch (e) {
    if (!ctx.alive()) return;
    box.className = 'programme-state notice danger';
    box.setAttribute('data-state', 'unknown');
    replace(box, h('strong', {}, t('programme.state_unloaded', { detail: e.message })));
    return;
  }
  const { facts, versions, checked, problems } = await checkProgrammeRecords(m.id, list(answer?.records), trust);
  if (!ctx.alive()) return;
  const derived = facts ? deriveProgramme(facts) : null;
  if (!derived) {
    box.className = 'programme-state notice danger';
    box.setAttribute('data-state', 'unverified');
    box.setAttribute('role', 'alert');
    replace(box, h('strong', {}, t('programme.state_unverified')));
    return;
  }
  const inForce = versions.find((v) => v.id === derived.inForce);
  const nodeParticipants = list(answer.participants);
  const nodeOf = (code) => nodeParticipants.find((p) => p?.member === code) ?? null;
  const rows = list(inForce?.content?.participants).map((p) => {
    if (typeof p.member !== 'string') {
      return {
        attrs: { 'data-testid': 'participant', 'data-institution': p.institution, 'data-standing': 'institution', 'data-verified': 'true' },
        cells: [who(p), p.roles.map((r) => t(`role.${r}`)).join(', '), contributions(p),
          h('span', { class: 'muted' }, t('programme.institution_standing'))],
      };
    }
    const mine = derived.participants.find((x) => x.member === p.member);
    const theirs = nodeOf(p.member);
    const rests = [m.id, derived.inForce, mine?.confirmation, mine?.retraction].filter(Boolean);
    const reasons = [];
    for (const r of rests) if (!checked.get(r)?.ok) reasons.push(t('programme.why.unchecked', { id: short(r, 12) }));
    for (const x of problems) if (x.member === p.member) reasons.push(`${short(x.id, 12)}: ${x.why}`);
    if (!theirs || theirs.standing !== mine?.standing) {
      reasons.push(t('programme.why.node_standing', { node: theirs?.standing ?? '—', mine: mine?.standing ?? '—' }));
    } else if ((theirs.confirmation ?? null) !== (mine.confirmation ?? null) || (theirs.retraction ?? null) !== (mine.retraction ?? null)) {
      reasons.push(t('programme.why.node_record'));
    }
    const ok = reasons.length === 0;
    const record = mine?.retraction ?? mine?.confirmation;
    return {
      attrs: {
        'data-testid': 'participant', 'data-member': p.member, 'data-standing': mine?.standing ?? 'awaiting',
        'data-verified': String(ok), class: ok ? null : 'unverified',
      },
      cells: [
        who(p),
        p.roles.map((r) => t(`role.${r}`)).join(', ') || t('profile.none'),
        contributions(p),
        [h('span', { class: `standing standing-${mine?.standing}` }, standingText(mine, checked)),
          mine?.confirmation ? [' ', h('a', { href: `/records/${mine.confirmation}`, 'data-testid': 'confirmation-link' },
            t('programme.confirmation_record'))] : null,
          mine?.retraction ? [' · ', h('a', { href: `/records/${mine.retraction}`, 'data-testid': 'withdrawal-link' },
            t('programme.withdrawal_record'))] : null,
          h('br'),
          ok
            ? h('span', { class: 'verified-mark ok' }, h('span', { 'aria-hidden': 'true' }, '✓ '),
              t(record ? 'programme.row_verified' : 'programme.row_verified_programme', { code: p.member }))
            : h('span', { class: 'verified-mark fail', role: 'alert' }, h('span', { 'aria-hidden': 'true' }, '✗ '),
              h('strong', {}, t('programme.row_unverified', { why: reasons.join('; ') })))],
      ],
    };
  });
  const headers = [t('programme.participant'), t('programme.roles'), t('programme.contributions'), t('programme.standing')];
  replace(table, dataTable(headers, rows, { block: true }));

  const agrees = answer.state === derived.state && answer.in_force === derived.inForce;
  box.setAttribute('data-state', derived.state);
  box.setAttribute('data-node-state', String(answer.state ?? ''));
  box.setAttribute('data-agrees', String(agrees));
  const waiting = derived.participants.filter((x) => x.standing !== 'lead' && x.standing !== 'confirmed').map((x) => x.member);
  const says = derived.state === 'confirmed'
    ? t('programme.state.confirmed')
    : derived.state === 'retracted'
      ? t('programme.state.retracted')
      : t('programme.state.proposed', { members: waiting.join(', ') });
  box.className = `programme-state notice ${derived.state === 'confirmed' ? 'ok' : derived.state === 'retracted' ? 'danger' : 'warn'}`;
  replace(box,
    h('strong', { 'data-testid': 'programme-state-text' }, says),
    h('br'),
    h('span', { class: 'muted' }, t('programme.state_how', { n: checked.size, version: short(derived.inForce, 12) })),
    agrees ? null : [h('br'), h('strong', { class: 'disagree', 'data-testid': 'state-disagrees' },
      t('programme.state_disagrees', { node: String(answer.state ?? '—'), mine: derived.state }))]);
  if (!agrees) {
    box.className = 'programme-state notice danger';
    box.setAttribute('role', 'alert');
  }
  if (problems.length && problemsBox) {
    replace(problemsBox, h('div', { class: 'notice danger', role: 'alert', 'data-testid': 'programme-problems' },
      h('strong', {}, t('programme.records_refused', { n: problems.length })),
      h('ul', {}, problems.map((x) => h('li', {}, h('a', { href: `/records/${x.id}` }, h('code', {}, short(x.id, 12))), ': ', x.why)))));
  }
  fillInstitutionNames(table, ctx);
}

/** On a confirmation's own page: "Confirmation of <programme title>", linked, and the version. */
export function confirmationNotice(body) {
  const programme = typeof body?.programme === 'string' ? body.programme.toLowerCase() : '';
  const version = typeof body?.version === 'string' ? body.version.toLowerCase() : '';
  const note = pickText(body?.note);
  return h('div', { class: 'notice info', 'data-testid': 'confirmation-of' },
    h('strong', {}, t('confirmation.of'), ' ', recordLink(programme, 'confirmed-programme')),
    version && version !== programme
      ? [h('br'), t('confirmation.version'), ' ', h('a', { href: `/records/${version}` }, h('code', {}, short(version, 16)))]
      : null,
    note ? [h('br'), t('confirmation.note'), ' ', langText('span', note)] : null,
    h('br'), h('span', { class: 'muted' }, t('confirmation.hint')));
}
