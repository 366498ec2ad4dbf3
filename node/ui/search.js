// The search page (`/`): full text, filters with facet counts, results with a "more" button,
// and links to export the results and subscribe to feeds. The filters live in the URL.

import { h, replace, getJson, errorBox, langText } from './dom.js';
import { t, pickText, topicName, langName, fmtDate, fmtLocal, getLang, TOPIC_SLUGS } from './i18n.js';
import { getMembers, getVocabulary, codeLabel, knownMembers, knownVocabulary, areaName } from './data.js';

/** Filters that repeat (several values are alternatives). */
const MULTI = ['kind', 'country', 'topic', 'area', 'lang', 'status', 'state'];
/** The kinds of content a search finds. */
const KINDS = ['practice', 'event', 'reform_profile', 'programme'];
/** A programme's statuses (IATI activity status) and confirmation states, as the API names them. */
const STATUSES = ['pipeline', 'implementation', 'completion', 'post_completion', 'cancelled', 'suspended'];
const STATES = ['proposed', 'confirmed', 'retracted'];
/** Filters with one value. */
const SINGLE = ['q', 'created_from', 'created_to', 'sort', 'include_retracted'];
const PAGE_SIZE = 20;
const MULTI_VALUE = '__multi';
const COMMON_LANGS = ['en', 'ru', 'kk', 'ky', 'tg', 'uz', 'az', 'hy', 'ka'];

/** The filter state from a URL query. */
function readFilters(query) {
  const f = {};
  for (const k of MULTI) f[k] = [...new Set(query.getAll(k).map((v) => v.trim()).filter(Boolean))];
  for (const k of SINGLE) f[k] = (query.get(k) || '').trim();
  if (f.include_retracted !== 'true') f.include_retracted = '';
  return f;
}

/** The query string of a filter state (empty values left out: the API refuses them). */
function queryOf(f, { skip = [] } = {}) {
  const p = new URLSearchParams();
  for (const k of ['q', ...MULTI, 'created_from', 'created_to', 'sort', 'include_retracted']) {
    if (skip.includes(k)) continue;
    const v = f[k];
    if (Array.isArray(v)) v.forEach((x) => p.append(k, x));
    else if (v) p.set(k, v);
  }
  return p;
}

function pageUrl(f) {
  const qs = queryOf(f).toString();
  return qs ? `/?${qs}` : '/';
}

function withFilter(f, key, values) {
  return { ...f, [key]: values };
}

export async function mount(main, state, ctx) {
  state.controls = {};
  const c = state.controls;
  const field = (id, labelKey, control) =>
    h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), control);
  const select = (id, name, testid) =>
    h('select', { id, name, 'data-testid': testid, onchange: () => submit(state, ctx) });

  c.q = h('input', {
    id: 'q',
    name: 'q',
    type: 'search',
    'data-testid': 'search-input',
    placeholder: t('search.placeholder'),
    maxlength: 500,
    autocomplete: 'off',
    'aria-describedby': 'q-hint',
  });
  c.kind = select('filter-kind', 'kind', 'filter-kind');
  c.country = select('filter-country', 'country', 'filter-country');
  c.topic = select('filter-topic', 'topic', 'filter-topic');
  c.area = select('filter-area', 'area', 'filter-area');
  c.lang = select('filter-lang', 'lang', 'filter-lang');
  c.status = select('filter-status', 'status', 'filter-status');
  c.state = select('filter-state', 'state', 'filter-state');
  c.sort = select('filter-sort', 'sort', 'filter-sort');
  c.created_from = h('input', {
    id: 'filter-created-from',
    name: 'created_from',
    type: 'date',
    'data-testid': 'filter-created-from',
    onchange: () => submit(state, ctx),
  });
  c.created_to = h('input', {
    id: 'filter-created-to',
    name: 'created_to',
    type: 'date',
    'data-testid': 'filter-created-to',
    onchange: () => submit(state, ctx),
  });
  c.include_retracted = h('input', {
    id: 'filter-include-retracted',
    name: 'include_retracted',
    type: 'checkbox',
    value: 'true',
    'data-testid': 'filter-include-retracted',
    onchange: () => submit(state, ctx),
  });

  const form = h(
    'form',
    {
      class: 'search-form',
      role: 'search',
      action: '/',
      method: 'get',
      onsubmit: (ev) => {
        ev.preventDefault();
        submit(state, ctx);
      },
    },
    h(
      'div',
      { class: 'search-row' },
      h('label', { for: 'q', class: 'search-label' }, t('search.label')),
      h(
        'div',
        { class: 'search-box' },
        c.q,
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'search-submit' }, t('search.submit')),
      ),
      h('p', { id: 'q-hint', class: 'hint' }, t('search.hint')),
    ),
    h(
      'fieldset',
      { class: 'filters' },
      h('legend', {}, t('filters.title')),
      field('filter-kind', 'filter.kind', c.kind),
      field('filter-country', 'filter.country', c.country),
      field('filter-topic', 'filter.topic', c.topic),
      field('filter-area', 'filter.area', c.area),
      field('filter-lang', 'filter.lang', c.lang),
      field('filter-status', 'filter.status', c.status),
      field('filter-state', 'filter.state', c.state),
      field('filter-created-from', 'filter.created_from', c.created_from),
      field('filter-created-to', 'filter.created_to', c.created_to),
      field('filter-sort', 'filter.sort', c.sort),
      h(
        'div',
        { class: 'field check' },
        c.include_retracted,
        h('label', { for: 'filter-include-retracted' }, t('filter.include_retracted')),
      ),
      h('p', { class: 'reset' }, h('a', { href: '/' }, t('filters.reset'))),
    ),
  );

  // A group, so that its name is allowed (a plain div may not be named: aria-prohibited-attr).
  state.chips = h('div', { class: 'chips', role: 'group', 'aria-label': t('filters.active') });
  state.count = h('p', { class: 'count', role: 'status', 'aria-live': 'polite' });
  state.list = h('ol', { class: 'results', 'data-testid': 'results' });
  state.more = h('div', { class: 'more' });
  state.facets = h('div', { class: 'facets' });
  state.exports = h('div', { class: 'exports' });
  state.error = h('div', { class: 'error-slot' });

  main.append(
    h('h1', {}, t('search.title')),
    form,
    h(
      'div',
      { class: 'search-layout' },
      h(
        'section',
        { class: 'results-section', 'aria-labelledby': 'results-heading' },
        h('h2', { id: 'results-heading', class: 'visually-hidden' }, t('results.title')),
        state.chips,
        state.count,
        state.error,
        state.list,
        state.more,
      ),
      h(
        'aside',
        { class: 'sidebar', 'aria-label': t('facets.title') },
        state.facets,
        h('section', { class: 'export-box' }, h('h2', {}, t('export.title')), state.exports),
      ),
    ),
  );
  await update(state, ctx);
}

/** Applies the form: the new filters go into the URL (a new history entry). */
function submit(state, ctx) {
  const c = state.controls;
  const old = state.filters || readFilters(new URLSearchParams());
  const f = {
    q: c.q.value.trim(),
    created_from: c.created_from.value,
    created_to: c.created_to.value,
    sort: c.sort.value,
    include_retracted: c.include_retracted.checked ? 'true' : '',
  };
  for (const k of MULTI) {
    const v = c[k].value;
    f[k] = v === MULTI_VALUE ? old[k] : v ? [v] : [];
  }
  const url = pageUrl(f);
  if (url !== location.pathname + location.search) ctx.navigate(url, { focus: false });
}

export async function update(state, ctx) {
  const f = readFilters(ctx.query);
  state.filters = f;
  document.title = f.q ? `${f.q} · hubnet` : `${t('search.title')} · hubnet`;
  const token = (state.token = (state.token || 0) + 1);
  syncControls(state, f, null);
  renderChips(state, f);
  renderExports(state, f);
  state.error.replaceChildren();
  state.more.replaceChildren();
  replace(state.count, t('loading'));
  state.list.setAttribute('aria-busy', 'true');

  const [members] = await Promise.all([getMembers().catch(() => null), getVocabulary().catch(() => null)]);
  let answer;
  try {
    answer = await fetchPage(f, null);
  } catch (e) {
    if (token !== state.token || !ctx.alive()) return;
    state.list.replaceChildren();
    state.list.removeAttribute('aria-busy');
    state.count.replaceChildren();
    replace(state.error, errorBox(e.message));
    syncControls(state, f, null, members, true);
    return;
  }
  if (token !== state.token || !ctx.alive()) return;
  state.list.removeAttribute('aria-busy');
  syncControls(state, f, answer.facets, members, true);
  renderFacets(state, f, answer.facets);
  state.list.replaceChildren();
  showPage(state, ctx, f, answer, token);
}

function fetchPage(f, cursor) {
  const p = queryOf(f);
  p.set('limit', String(PAGE_SIZE));
  if (cursor) p.set('cursor', cursor);
  return getJson(`/api/v1/records?${p}`);
}

function showPage(state, ctx, f, answer, token) {
  const records = Array.isArray(answer?.records) ? answer.records : [];
  const total = Number.isFinite(answer?.total) ? answer.total : null;
  if (total !== null) {
    replace(state.count, total === 1 ? t('results.count_one') : t('results.count', { n: total }));
  } else {
    state.count.replaceChildren();
  }
  if (records.length === 0 && state.list.children.length === 0) {
    replace(state.count, t('results.none'));
  }
  const first = records.map((r) => resultItem(r)).filter(Boolean);
  state.list.append(...first);
  state.more.replaceChildren();
  const next = typeof answer?.next_cursor === 'string' && answer.next_cursor ? answer.next_cursor : null;
  if (next) {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'data-testid': 'more',
        onclick: async () => {
          button.disabled = true;
          button.textContent = t('loading');
          try {
            const more = await fetchPage(f, next);
            if (token !== state.token || !ctx.alive()) return;
            const before = state.list.children.length;
            showPage(state, ctx, f, more, token);
            const firstNew = state.list.children[before]?.querySelector('a');
            if (firstNew) firstNew.focus();
          } catch (e) {
            if (token !== state.token) return;
            replace(state.more, errorBox(e.message));
          }
        },
      },
      t('results.more'),
    );
    state.more.append(button);
  }
}

/** One result: title, kind, country, date, summary, topics and state badges. */
export function resultItem(r) {
  if (!r || typeof r.id !== 'string') return null;
  const content = (r.current && typeof r.current === 'object' ? r.current : null) ||
    (r.body && typeof r.body === 'object' ? r.body : {});
  const kind = content.kind || r.kind;
  const title = pickText(content.title);
  const profile = kind === 'reform_profile';
  const summary = pickText(kind === 'event' ? content.description : content.summary);
  const country = content.country || r.member;
  const badges = [];
  if (r.retracted) badges.push(h('span', { class: 'badge danger' }, t('badge.retracted')));
  if (r.amendment) badges.push(h('span', { class: 'badge info' }, t('badge.amended')));
  if (profile && content.sample === true) badges.push(h('span', { class: 'badge warn' }, t('badge.sample')));
  if (kind === 'event' && (content.status === 'cancelled' || content.status === 'postponed')) {
    badges.push(h('span', { class: `badge ${content.status === 'cancelled' ? 'danger' : 'warn'}` }, t(`status.${content.status}`)));
  }
  let when;
  if (kind === 'event' && content.start) {
    when = t('results.starts', { date: `${fmtLocal(content.start)}${content.time_zone ? ` (${content.time_zone})` : ''}` });
  } else if (profile && content.as_of) {
    when = t('results.as_of', { date: fmtLocal(content.as_of) });
  } else {
    when = t('results.published', { date: fmtDate(r.created_at ?? r.created_at_ms) });
  }
  const topics = Array.isArray(content.topics) ? content.topics : [];
  const areas = profile && Array.isArray(content.reform_areas) ? content.reform_areas : [];
  const titleLink = h(
    'a',
    { href: `/records/${encodeURIComponent(r.id)}`, 'data-testid': 'result-title', lang: title?.lang },
    title ? title.text : r.id,
  );
  return h(
    'li',
    {
      class: `result${r.retracted ? ' retracted' : ''}${content.status === 'cancelled' ? ' cancelled' : ''}`,
      'data-testid': 'result',
      'data-id': r.id,
    },
    h('h3', { class: 'result-title' }, titleLink),
    h(
      'p',
      { class: 'meta' },
      h('span', { class: `badge kind-${kind}` }, t(`kind.${kind}`)),
      ' ',
      h('span', { class: 'country' }, codeLabel(country)),
      ' · ',
      h('span', { class: 'date' }, when),
      badges.length ? ' ' : null,
      badges,
    ),
    langText('p', summary, { class: 'summary' }),
    topics.length
      ? h('ul', { class: 'tags', 'aria-label': t('record.topics') }, topics.map((x) => h('li', {}, topicName(x))))
      : null,
    areas.length
      ? h('ul', { class: 'tags', 'aria-label': t('profile.areas') }, areas.map((x) => h('li', {}, areaName(x))))
      : null,
  );
}

function label(key, value) {
  switch (key) {
    case 'kind':
      return t(`kind.${value}`);
    case 'country':
      return codeLabel(value);
    case 'topic':
      return topicName(value);
    case 'area':
      return areaName(value);
    case 'lang':
      return langName(value);
    case 'status':
      return t(`programme.status.${value}`);
    case 'state':
      return t(`filter.state.${value}`);
    default:
      return value;
  }
}

/**
 * Fills the selects: known values plus any the facets name, each with its count. The first call
 * for a URL sets every control from the filters; the later one (with the facets) keeps what the
 * reader may have changed meanwhile.
 */
function syncControls(state, f, facets, members = knownMembers(), keep = false) {
  const c = state.controls;
  if (!keep) {
    c.q.value = f.q;
    c.created_from.value = /^\d{4}-\d{2}-\d{2}$/.test(f.created_from) ? f.created_from : '';
    c.created_to.value = /^\d{4}-\d{2}-\d{2}$/.test(f.created_to) ? f.created_to : '';
    c.include_retracted.checked = f.include_retracted === 'true';
  }
  const known = {
    kind: KINDS,
    country: (members?.members || []).map((m) => m?.code).filter(Boolean),
    topic: TOPIC_SLUGS,
    area: (knownVocabulary()?.reform_areas || []).map((x) => x?.slug).filter(Boolean),
    lang: COMMON_LANGS,
    status: STATUSES,
    state: STATES,
  };
  for (const key of MULTI) {
    const counts = facets && typeof facets[key] === 'object' && facets[key] ? facets[key] : {};
    const values = [...new Set([...known[key], ...Object.keys(counts), ...f[key]])];
    if (!['kind', 'status', 'state'].includes(key)) values.sort((a, b) => label(key, a).localeCompare(label(key, b)));
    const options = [h('option', { value: '' }, t('filter.any'))];
    if (f[key].length > 1) {
      options.push(h('option', { value: MULTI_VALUE }, f[key].map((v) => label(key, v)).join(', ')));
    }
    for (const v of values) {
      const n = counts[v];
      options.push(h('option', { value: v }, typeof n === 'number' ? `${label(key, v)} (${n})` : label(key, v)));
    }
    const before = c[key].value;
    replace(c[key], options);
    c[key].value = keep ? before : f[key].length > 1 ? MULTI_VALUE : f[key][0] || '';
  }
  const sorts = ['', 'relevance', 'newest', 'oldest', 'start'];
  const before = c.sort.value;
  replace(c.sort, sorts.map((s) => h('option', { value: s }, t(s ? `sort.${s}` : 'sort.default'))));
  c.sort.value = keep ? before : sorts.includes(f.sort) ? f.sort : '';
}

/** Removable chips for the active filters. */
function renderChips(state, f) {
  const chips = [];
  for (const key of MULTI) {
    for (const v of f[key]) {
      const name = `${t(`filter.${key}`)}: ${label(key, v)}`;
      chips.push(
        h(
          'a',
          {
            class: 'chip',
            href: pageUrl(withFilter(f, key, f[key].filter((x) => x !== v))),
            'aria-label': t('filters.remove', { name }),
          },
          name,
          h('span', { 'aria-hidden': 'true', class: 'x' }, ' ×'),
        ),
      );
    }
  }
  for (const key of ['created_from', 'created_to']) {
    if (f[key]) {
      const name = `${t(`filter.${key}`)}: ${f[key]}`;
      chips.push(
        h('a', { class: 'chip', href: pageUrl({ ...f, [key]: '' }), 'aria-label': t('filters.remove', { name }) },
          name, h('span', { 'aria-hidden': 'true', class: 'x' }, ' ×')),
      );
    }
  }
  replace(state.chips, chips);
  state.chips.hidden = chips.length === 0;
}

/** The facet lists: each value with its count, a link that filters by it. */
function renderFacets(state, f, facets) {
  if (!facets || typeof facets !== 'object') {
    state.facets.replaceChildren();
    return;
  }
  const sections = [];
  for (const key of MULTI) {
    const counts = facets[key];
    if (!counts || typeof counts !== 'object') continue;
    const entries = Object.entries(counts).filter(([, n]) => typeof n === 'number' && n > 0);
    if (entries.length === 0) continue;
    entries.sort((a, b) => b[1] - a[1] || label(key, a[0]).localeCompare(label(key, b[0])));
    sections.push(
      h(
        'section',
        { class: 'facet', 'data-facet': key },
        h('h3', {}, t(`filter.${key}`)),
        h(
          'ul',
          {},
          entries.map(([value, n]) => {
            const on = f[key].includes(value);
            const href = pageUrl(withFilter(f, key, on ? f[key].filter((x) => x !== value) : [value]));
            return h(
              'li',
              {},
              h(
                'a',
                { href, 'aria-current': on ? 'true' : null, 'data-value': value, class: on ? 'on' : null },
                h('span', { class: 'facet-label' }, label(key, value)),
                ' ',
                h('span', { class: 'facet-count' }, String(n)),
              ),
            );
          }),
        ),
      ),
    );
  }
  replace(state.facets, sections.length ? [h('h2', {}, t('facets.title')), sections] : []);
}

function renderExports(state, f) {
  // Texts in files and feeds in the reader's language (the node falls back to en, ru, any).
  const all = queryOf(f);
  const feedParams = queryOf(f, { skip: ['kind', 'sort'] });
  feedParams.set('display_lang', getLang());
  const feed = feedParams.toString();
  const withFormat = (fmt) => {
    const p = new URLSearchParams(all);
    p.set('format', fmt);
    p.set('display_lang', getLang());
    return `/api/v1/export?${p}`;
  };
  replace(
    state.exports,
    h(
      'ul',
      {},
      h('li', {}, h('a', { href: withFormat('csv'), 'data-testid': 'export-csv' }, t('export.csv'))),
      h('li', {}, h('a', { href: withFormat('json'), 'data-testid': 'export-json' }, t('export.json'))),
      h('li', {}, h('a', { href: `/feeds/events.ics${feed ? `?${feed}` : ''}`, 'data-testid': 'feed-ics' }, t('export.ics'))),
      h('li', {}, h('a', { href: `/feeds/practices.atom${feed ? `?${feed}` : ''}`, 'data-testid': 'feed-atom' }, t('export.atom'))),
      h('li', {}, h('a', {
        href: `/feeds/reform-profiles.atom${feed ? `?${feed}` : ''}`,
        'data-testid': 'feed-atom-profiles',
      }, t('export.atom_profiles'))),
    ),
  );
}
