// The comparison of reform profiles (`/compare?country=KZ&country=KG[&area=…][&as_of=…]`): an
// indicator-by-country table of the profiles in force, every value with its unit and year, every
// missing value said as missing, and each column checked in the browser against its signed
// record (verify.js) exactly as the record page checks it, down to every cell it shows. The
// page's state is its URL query, which is the API's: opening the URL shows the same view.

import { h, replace, getJson, errorBox, extLink, short } from './dom.js';
import { t, pickText, fmtLocal } from './i18n.js';
import {
  getMembers, getVocabulary, getTrust, checkPin, areaName, codeLabel, indicatorName, knownVocabulary,
} from './data.js';
import { verifyRecord, compareColumn } from './verify.js';
import { checkText } from './record.js';
import {
  readCompare, compareQuery, countProblem, cellText, directionText, fmtMeasure, isMeasure, unitLabel,
} from './profile.js';

function obj(x) {
  return x && typeof x === 'object' && !Array.isArray(x) ? x : null;
}

function pageUrl(q) {
  const qs = compareQuery(q);
  return qs ? `/compare?${qs}` : '/compare';
}

export async function mount(main, state, ctx) {
  state.countryBox = h('div', { class: 'choices', 'data-testid': 'compare-countries' });
  state.areaBox = h('div', { class: 'choices', 'data-testid': 'compare-areas' });
  state.asOf = h('input', {
    id: 'compare-as-of',
    name: 'as_of',
    type: 'date',
    'data-testid': 'compare-as-of',
    'aria-describedby': 'compare-as-of-hint',
    onchange: () => apply(state, ctx),
  });
  state.message = h('div', { class: 'compare-message', role: 'status', 'aria-live': 'polite', 'data-testid': 'compare-message' });
  state.result = h('div', { class: 'compare-result' });
  state.csv = h('p', { class: 'compare-csv' });
  const form = h(
    'form',
    { class: 'compare-form', action: '/compare', method: 'get', onsubmit: (ev) => { ev.preventDefault(); apply(state, ctx); } },
    h('fieldset', {}, h('legend', {}, t('compare.countries')), state.countryBox),
    h('fieldset', {}, h('legend', {}, t('compare.areas')),
      h('p', { class: 'hint' }, t('compare.areas_hint')), state.areaBox),
    h('div', { class: 'field compare-date' },
      h('label', { for: 'compare-as-of' }, t('compare.as_of')),
      h('div', { class: 'copy-row' }, state.asOf,
        h('button', {
          type: 'button',
          class: 'secondary small',
          'data-testid': 'compare-latest',
          onclick: () => { state.asOf.value = ''; apply(state, ctx); },
        }, t('compare.as_of_clear'))),
      h('p', { id: 'compare-as-of-hint', class: 'hint' }, t('compare.as_of_hint'))),
  );
  main.append(
    h('h1', {}, t('compare.title')),
    h('p', { class: 'lead' }, t('compare.intro')),
    form,
    state.message,
    state.csv,
    state.result,
  );
  const [members, vocabulary] = await Promise.all([
    getMembers().catch(() => null),
    getVocabulary().catch(() => null),
  ]);
  if (!ctx.alive()) return;
  state.memberCodes = (members?.members || []).map((m) => m?.code).filter((c) => c && c !== 'HUB');
  state.areaSlugs = (vocabulary?.reform_areas || []).map((a) => a?.slug).filter(Boolean);
  await update(state, ctx);
}

/**
 * Checkboxes for `values` (plus any the URL names that are not among them), checked as `chosen`.
 * Built again only when the set of values changes, so the box the reader just used keeps focus.
 */
function checkboxes(box, name, values, chosen, label, state, ctx) {
  const all = [...values, ...chosen.filter((v) => !values.includes(v))];
  const inputs = () => [...box.querySelectorAll('input[type=checkbox]')];
  const have = inputs().map((i) => i.value);
  if (have.length !== all.length || have.some((v, i) => v !== all[i])) {
    const focused = box.contains(document.activeElement) ? document.activeElement.value : null;
    replace(
      box,
      all.map((v) => {
        const id = `compare-${name}-${v}`.replace(/[^A-Za-z0-9_-]/g, '_');
        return h('div', { class: 'field check' },
          h('input', {
            id, type: 'checkbox', name, value: v, 'data-testid': `compare-${name}`, onchange: () => apply(state, ctx),
          }),
          h('label', { for: id }, label(v)));
      }),
    );
    if (focused !== null) inputs().find((i) => i.value === focused)?.focus();
  }
  for (const i of inputs()) i.checked = chosen.includes(i.value);
}

/** The controls into the URL (replacing the history entry): the URL is the page's state. */
function apply(state, ctx) {
  const old = state.q || { countries: [], areas: [], as_of: '' };
  const checked = (box) => [...box.querySelectorAll('input[type=checkbox]')].filter((i) => i.checked).map((i) => i.value);
  // Kept in the order chosen: columns do not jump when one more is added.
  const keepOrder = (before, now) => [...before.filter((x) => now.includes(x)), ...now.filter((x) => !before.includes(x))];
  const asOf = /^\d{4}-\d{2}-\d{2}$/.test(state.asOf.value) ? state.asOf.value : '';
  const q = {
    countries: keepOrder(old.countries, checked(state.countryBox)),
    areas: keepOrder(old.areas, checked(state.areaBox)),
    as_of: asOf,
  };
  const url = pageUrl(q);
  if (url !== location.pathname + location.search) ctx.navigate(url, { replace: true, focus: false });
}

export async function update(state, ctx) {
  const q = readCompare(ctx.query);
  state.q = q;
  const token = (state.token = (state.token || 0) + 1);
  document.title = `${t('compare.title')} · hubnet`;
  checkboxes(state.countryBox, 'country', state.memberCodes || [], q.countries, codeLabel, state, ctx);
  checkboxes(state.areaBox, 'area', state.areaSlugs || [], q.areas, areaName, state, ctx);
  state.asOf.value = q.as_of;

  const problem = countProblem(q.countries);
  if (problem) {
    replace(state.message, h('p', { class: 'notice info', 'data-problem': problem.key }, t(problem.key, { n: problem.n })));
    state.csv.replaceChildren();
    state.result.replaceChildren();
    return;
  }
  state.message.replaceChildren();
  const qs = compareQuery(q);
  replace(state.csv, h('a', { href: `/api/v1/compare?${qs}&format=csv`, 'data-testid': 'compare-csv' }, t('compare.csv')));
  replace(state.result, h('p', { class: 'loading' }, t('loading')));
  state.result.setAttribute('aria-busy', 'true');
  let answer;
  try {
    [answer] = await Promise.all([getJson(`/api/v1/compare?${qs}`), getVocabulary().catch(() => null)]);
  } catch (e) {
    if (token !== state.token || !ctx.alive()) return;
    state.result.removeAttribute('aria-busy');
    state.csv.replaceChildren();
    replace(state.result, errorBox(e.message));
    return;
  }
  if (token !== state.token || !ctx.alive()) return;
  state.result.removeAttribute('aria-busy');
  const countries = Array.isArray(answer?.countries) ? answer.countries.filter(obj) : [];
  const rows = Array.isArray(answer?.indicators) ? answer.indicators.filter(obj) : [];
  replace(
    state.result,
    matrix(answer, countries, rows),
    rows.length === 0 ? h('p', { class: 'empty notice info', 'data-testid': 'compare-empty' }, t('compare.empty')) : null,
    rows.length ? h('p', { class: 'hint' }, t('compare.missing_note')) : null,
  );
  const trust = await getTrust();
  if (token !== state.token || !ctx.alive()) return;
  const records = Array.isArray(answer?.records) ? answer.records.filter(obj) : [];
  const codes = rows.map((r) => r.code);
  await Promise.all(countries.map(async (col, i) => {
    if (!obj(col.profile)) return;
    const res = await verifyColumn(col, records, codes, rows.map((r) => r.cells?.[i]), trust);
    if (token !== state.token || !ctx.alive()) return;
    const badge = state.result.querySelector(`th[data-country="${CSS.escape(col.country)}"] .verify-badge`);
    if (badge) showVerdict(badge, res);
  }));
}

/** The table: one row per indicator, one column per country. */
function matrix(answer, countries, rows) {
  const caption = answer?.as_of
    ? t('compare.caption_as_of', { date: fmtLocal(answer.as_of) })
    : t('compare.caption_latest');
  // The heading names the table (and stays put while the table scrolls sideways).
  return [h('h2', { id: 'compare-caption', class: 'compare-caption' }, caption), h(
    'div',
    { class: 'compare-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'compare-caption' },
    h(
      'table',
      { id: 'compare-table', class: 'compare', 'data-testid': 'compare-table', 'aria-labelledby': 'compare-caption' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'corner' }, t('compare.indicator')),
        countries.map((c) => h('th', { scope: 'col', 'data-country': c.country }, columnHead(c))))),
      h('tbody', {}, rows.map((r) => h('tr', { 'data-indicator': r.code },
        h('th', { scope: 'row' }, rowHead(r)),
        countries.map((c, i) => cell(r, r.cells?.[i], c))))),
    ),
  )];
}

function columnHead(c) {
  const name = pickText(c.name);
  const p = obj(c.profile);
  const title = pickText(p?.title);
  return [
    h('a', { href: `/countries/${encodeURIComponent(c.country)}`, class: 'country-name' },
      name ? h('span', { lang: name.lang }, name.text) : c.country),
    p
      ? [
        h('a', { href: `/records/${p.id}`, class: 'profile-link', 'data-testid': 'compare-profile-link', lang: title?.lang },
          title ? title.text : short(p.id, 12)),
        h('span', { class: 'as-of' }, t('results.as_of', { date: fmtLocal(p.as_of) })),
        p.sample === true || p.amended === true
          ? h('span', { class: 'badges' },
            p.sample === true ? h('span', { class: 'badge warn' }, t('badge.sample')) : null,
            p.amended === true ? [' ', h('span', { class: 'badge info' }, t('badge.amended'))] : null)
          : null,
        h('a', {
          href: `/records/${p.id}#verify`,
          class: 'verify-badge pending',
          'data-state': 'pending',
          'data-testid': 'compare-verify',
        }, t('compare.verify_pending')),
      ]
      : h('span', { class: 'no-profile' }, t('compare.no_profile_col')),
  ];
}

function rowHead(r) {
  const picked = pickText(r.name);
  const unit = unitLabel(r.unit);
  return [
    h('span', { class: 'indicator-name', lang: picked?.lang }, picked ? picked.text : indicatorName(r.code, knownVocabulary())),
    h('span', { class: 'indicator-meta' },
      unit ? t('compare.unit', { unit }) : null,
      unit ? h('br') : null,
      typeof r.higher_is_better === 'boolean' ? directionText(r.higher_is_better) : null,
      r.reform_area ? [h('br'), areaName(r.reform_area)] : null),
  ];
}

function cell(row, c, col) {
  const view = cellText(c, row.unit);
  const attrs = {
    'data-status': view.status,
    'data-indicator': row.code,
    'data-country': col.country,
    class: view.status === 'value' ? 'cell-value' : 'cell-missing',
  };
  if (view.status !== 'value') {
    return h('td', attrs,
      h('span', { class: 'missing-label' }, h('span', { 'aria-hidden': 'true' }, '∅ '), view.text),
      view.reason ? h('span', { class: 'missing-reason', lang: view.reason.lang }, view.reason.text) : null);
  }
  const source = obj(c.source);
  const sourceName = pickText(source?.name);
  const tip = sourceName
    ? `${t('cell.source', { name: sourceName.text })}${source.license ? ` (${source.license})` : ''}`
    : null;
  const unit = c.unit || row.unit;
  return h('td', { ...attrs, title: tip },
    h('span', { class: 'value' }, view.text),
    source && (sourceName || source.url)
      ? h('span', { class: 'cell-source' }, source.url
        ? extLink(source.url, t('cell.source', { name: sourceName ? sourceName.text : source.url }))
        : t('cell.source', { name: sourceName.text }),
      source.license ? ` · ${t('profile.licence', { license: source.license })}` : null)
      : null,
    isMeasure(c.baseline)
      ? h('span', { class: 'cell-extra' }, t('cell.baseline', { value: fmtMeasure(c.baseline, unit) }))
      : null,
    isMeasure(c.target) ? h('span', { class: 'cell-extra' }, t('cell.target', { value: fmtMeasure(c.target, unit) })) : null,
  );
}

/**
 * Checks one column: the network's charter (as the browser established it) and the pin, the
 * original profile and, when amended, its amendment (as the record page does), then the column's
 * head and every cell against the content in force as decoded from the signed bytes.
 * Returns `{ok, bad, part, member, author}`: `bad` the first failing check.
 */
async function verifyColumn(col, records, codes, cells, trust) {
  const p = col.profile;
  const fail = (bad, part = 'original') => ({ ok: false, bad, part });
  const pin = checkPin(trust);
  if (!trust.ok || !pin.ok) return fail([...trust.checks, pin].find((c) => !c.ok), 'charter');
  const rec = records.find((r) => r.id === p.id);
  if (!rec) return fail({ key: 'record', ok: false, args: { id: p.id } });
  const amendment = obj(rec.amendment);
  if (p.amended === true && !amendment) return fail({ key: 'record', ok: false, args: { id: p.record } }, 'amendment');
  const content = obj(rec.current) || obj(rec.body) || undefined;
  let first;
  let second = null;
  try {
    first = await verifyRecord(rec, trust, {
      id: p.id,
      kinds: ['reform_profile'],
      content: amendment ? undefined : content,
    });
    if (!first.ok) return fail(first.checks.find((c) => !c.ok));
    if (amendment) {
      second = await verifyRecord(amendment, trust, {
        kinds: ['amendment'],
        target: p.id,
        author: first.author || rec.author,
        content,
      });
      if (!second.ok) return fail(second.checks.find((c) => !c.ok), 'amendment');
    }
  } catch (e) {
    return fail({ key: 'header', ok: false, args: { detail: String(e?.message ?? e) } });
  }
  const inForce = second ? second.body?.content : first.body;
  const inForceId = second ? amendment.id : rec.id;
  if (String(inForceId).toLowerCase() !== String(p.record).toLowerCase()) {
    return fail({ key: 'record', ok: false, args: { id: p.record } }, second ? 'amendment' : 'original');
  }
  const diff = compareColumn(col, codes, cells, inForce);
  if (diff.head.length) return fail({ key: 'head', ok: false, args: { detail: diff.head.join(', ') } });
  if (diff.cells.length) return fail({ key: 'cells', ok: false, args: { codes: diff.cells.join(', ') } });
  return { ok: true, bad: null, part: null, member: first.member, author: first.author, parts: second ? 2 : 1 };
}

function showVerdict(badge, res) {
  badge.classList.remove('pending');
  badge.classList.add(res.ok ? 'ok' : 'fail');
  badge.setAttribute('data-state', res.ok ? 'ok' : 'fail');
  if (res.ok) {
    badge.setAttribute('title', t('verify.ok', { code: res.member, key: short(res.author, 8) }));
    replace(badge, h('span', { 'aria-hidden': 'true' }, '✓ '), t('compare.verify_ok'));
    return;
  }
  const why = checkText(res.bad || { key: 'header', ok: false, args: {} });
  const text = res.part === 'amendment' || res.part === 'charter'
    ? t('verify.in', { record: t(`verify.part.${res.part}`), why })
    : why;
  badge.setAttribute('data-check', res.bad?.key ?? 'header');
  replace(badge, h('span', { 'aria-hidden': 'true' }, '✗ '), t('compare.verify_fail', { why: text }));
}
