// The directory (`/directory?kind=expert&topic=…&country=…&lang=…&format=…` or
// `?kind=institution&type=…&country=…`): experts by topic, country, working language and format,
// institutions by type and country, as `GET /api/v1/directory` answers with the same parameters;
// each entry links to its record page, where the browser checks its signature, and the list
// exports as vCard (RFC 6350) and CSV with the same filters. The page's state is its URL query.
//
// Also the record page's parts for the two kinds (`expertFacts`, `institutionFacts`): an
// expert's position, institution, affiliations, topics, languages, formats, works, institutional
// contact, consent (its date and scope, nothing else) and re-confirmation date; an institution's
// type, parent, website, identifiers and what names it (`GET /api/v1/institutions/{id}/references`).

import { h, replace, getJson, errorBox, extLink, langText, short } from './dom.js';
import { t, pickText, topicName, langName, fmtLocal, fmtPartial, getLang } from './i18n.js';
import { getMembers, getVocabulary, codeLabel, areaName } from './data.js';

/** The expert formats and institution types, in the order of the protocol's enums. */
export const FORMATS = ['peer_review', 'expert_mission', 'study_visit', 'speaker', 'mentoring', 'workshop'];
export const TYPES = [
  'ministry', 'civil_service_agency', 'academy_or_school', 'university', 'international_organisation', 'other',
];

/** The filters of each kind, in the order the form shows them. */
const FILTERS = {
  expert: ['topic', 'country', 'lang', 'format'],
  institution: ['type', 'country'],
};

function obj(x) {
  return x && typeof x === 'object' && !Array.isArray(x) ? x : null;
}

/**
 * The directory's state from a URL query: `{kind, topic, country, lang, format, type}` (strings,
 * '' for none). `kind` is `expert` unless `institution`; filters the kind does not have are
 * dropped.
 */
export function readDirectory(query) {
  const get = (k) => String(query.get(k) ?? '').trim();
  const kind = get('kind') === 'institution' ? 'institution' : 'expert';
  const out = { kind, topic: '', country: '', lang: '', format: '', type: '' };
  for (const k of FILTERS[kind]) out[k] = get(k);
  return out;
}

/** The query string of a directory state (the page's, the API's and the exports' own). */
export function directoryQuery(d) {
  const q = new URLSearchParams();
  q.set('kind', d.kind);
  for (const k of FILTERS[d.kind] ?? []) if (d[k]) q.set(k, d[k]);
  return q.toString();
}

/** The export links of a state: vCard and CSV, texts in `displayLang`. */
export function exportLinks(d, displayLang) {
  const qs = `${directoryQuery(d)}&display_lang=${encodeURIComponent(displayLang)}`;
  return { vcard: `/api/v1/directory.vcf?${qs}`, csv: `/api/v1/directory.csv?${qs}` };
}

export async function mount(main, state, ctx) {
  state.form = h('form', {
    class: 'directory-form',
    action: '/directory',
    method: 'get',
    'aria-labelledby': 'directory-filters',
    onsubmit: (ev) => {
      ev.preventDefault();
      apply(state, ctx);
    },
  });
  state.summary = h('p', { class: 'directory-count', role: 'status', 'aria-live': 'polite', 'data-testid': 'directory-count' });
  state.exports = h('p', { class: 'directory-exports', 'data-testid': 'directory-exports' });
  state.list = h('div', { class: 'directory-list' });
  main.append(
    h('h1', {}, t('directory.title')),
    h('p', { class: 'lead' }, t('directory.intro')),
    h('section', { class: 'panel', 'aria-labelledby': 'directory-filters' },
      h('h2', { id: 'directory-filters' }, t('directory.filters')), state.form),
    h('section', { class: 'directory-results', 'aria-labelledby': 'directory-results' },
      h('h2', { id: 'directory-results' }, t('directory.results')), state.summary, state.exports, state.list),
  );
  const [members, vocabulary] = await Promise.all([
    getMembers().catch(() => null),
    getVocabulary().catch(() => null),
  ]);
  if (!ctx.alive()) return;
  state.members = (members?.members || []).map((m) => m?.code).filter(Boolean);
  state.topics = (vocabulary?.topics || []).map((x) => x?.slug).filter(Boolean);
  await update(state, ctx);
}

export async function update(state, ctx) {
  const d = readDirectory(ctx.query);
  state.d = d;
  buildForm(state, d, ctx);
  state.summary.textContent = t('loading');
  let answer;
  try {
    answer = await getJson(`/api/v1/directory?${directoryQuery(d)}`);
  } catch (e) {
    if (!ctx.alive()) return;
    state.summary.textContent = '';
    replace(state.list, errorBox(e.message));
    return;
  }
  if (!ctx.alive()) return;
  const entries = Array.isArray(answer.entries) ? answer.entries.filter(obj) : [];
  document.title = `${t('directory.title')} · hubnet`;
  state.summary.textContent = t(d.kind === 'expert' ? 'directory.count_experts' : 'directory.count_institutions', { n: entries.length });
  const links = exportLinks(d, getLang());
  replace(
    state.exports,
    h('a', { href: links.vcard, class: 'button secondary', 'data-testid': 'export-vcard', download: 'hubnet-directory.vcf' }, t('directory.export_vcard')),
    ' ',
    h('a', { href: links.csv, class: 'button secondary', 'data-testid': 'export-csv', download: 'hubnet-directory.csv' }, t('directory.export_csv')),
  );
  replace(
    state.list,
    entries.length
      ? h('ul', { class: 'directory-entries' }, entries.map((e) => entryItem(e)))
      : h('p', { class: 'empty' }, t('directory.none')),
  );
  fillInstitutionNames(state.list, ctx);
}

/** The form for state `d`: kind, then the kind's filters as labelled selects. */
function buildForm(state, d, ctx) {
  const onchange = () => apply(state, ctx);
  const select = (name, label, values, nameOf) => {
    const id = `directory-${name}`;
    const chosen = d[name];
    const all = chosen && !values.includes(chosen) ? [...values, chosen] : values;
    return h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('select', { id, name, 'data-testid': id, onchange },
        h('option', { value: '' }, t('filter.any')),
        all.map((v) => h('option', { value: v, selected: v === chosen }, nameOf(v)))));
  };
  const kind = h('fieldset', { class: 'directory-kind' },
    h('legend', {}, t('directory.show')),
    ['expert', 'institution'].map((k) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'kind', value: k, checked: d.kind === k, 'data-testid': `directory-kind-${k}`, onchange }),
      ' ', t(`directory.kind.${k}`))));
  const fields = FILTERS[d.kind].map((f) => {
    switch (f) {
      case 'topic':
        return select('topic', t('directory.topic'), state.topics ?? [], (x) => areaName(x));
      case 'country':
        return select('country', t('directory.country'), state.members ?? [], (x) => codeLabel(x));
      case 'lang':
        return select('lang', t('directory.lang'), LANG_CHOICES, (x) => langName(x));
      case 'format':
        return select('format', t('directory.format'), FORMATS, (x) => t(`format.${x}`));
      default:
        return select('type', t('directory.type'), TYPES, (x) => t(`itype.${x}`));
    }
  });
  // Built again only when the kind changes, so that the select the reader just used keeps focus.
  if (state.formKind === d.kind) {
    for (const f of FILTERS[d.kind]) {
      const el = state.form.querySelector(`[name="${f}"]`);
      if (el && el.value !== d[f]) el.value = d[f];
    }
    return;
  }
  state.formKind = d.kind;
  replace(state.form, kind, h('div', { class: 'directory-fields' }, fields),
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'directory-apply' }, t('directory.apply')));
}

/** The working languages the filter offers (the members' languages and a few others). */
const LANG_CHOICES = ['ru', 'en', 'kk', 'ky', 'uz', 'tg', 'tk', 'hy', 'az', 'ka', 'mn', 'tr', 'fr', 'de', 'zh', 'ar'];

function apply(state, ctx) {
  const form = new FormData(state.form);
  const d = { kind: form.get('kind') === 'institution' ? 'institution' : 'expert' };
  for (const k of FILTERS[d.kind]) d[k] = String(form.get(k) ?? '');
  const url = `/directory?${directoryQuery(d)}`;
  if (url !== location.pathname + location.search) ctx.navigate(url, { focus: false });
}

/** One entry of the list: name (linked to its record page), what it is, where, what it offers. */
function entryItem(e) {
  const name = pickText(e.name);
  const id = typeof e.id === 'string' ? e.id : '';
  const bits = [];
  if (e.kind === 'expert') {
    const position = pickText(e.position);
    const inst = institutionLabel(e.institution);
    if (position || inst) bits.push(h('p', { class: 'muted' }, langText('span', position), position && inst ? ', ' : null, inst));
  } else if (e.type) {
    bits.push(h('p', { class: 'muted' }, t(`itype.${e.type}`)));
  }
  const tags = [];
  if (e.country) tags.push([t('directory.country'), codeLabel(e.country)]);
  if (Array.isArray(e.topics) && e.topics.length) tags.push([t('record.topics'), e.topics.map(topicName).join(', ')]);
  if (Array.isArray(e.languages) && e.languages.length) tags.push([t('record.languages'), e.languages.map(langName).join(', ')]);
  if (Array.isArray(e.formats) && e.formats.length) tags.push([t('directory.format'), e.formats.map((f) => t(`format.${f}`)).join(', ')]);
  return h('li', { class: 'directory-entry', 'data-testid': 'directory-entry', 'data-id': id, 'data-kind': e.kind },
    h('h3', {},
      h('a', { href: `/records/${id}`, lang: name?.lang }, name ? name.text : short(id, 16)),
      e.sample === true ? [' ', h('span', { class: 'badge warn' }, t('badge.sample'))] : null),
    bits,
    tags.length ? h('dl', { class: 'facts-inline' }, tags.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])) : null);
}

/**
 * An organisation (`{id}` or `{name}`): a link to the institution's record page (its name filled
 * in by `fillInstitutionNames`) or its name as text; null when absent.
 */
function institutionLabel(o) {
  const org = obj(o);
  if (!org) return null;
  if (typeof org.id === 'string' && /^[0-9a-f]{64}$/i.test(org.id)) {
    return h('a', { href: `/records/${org.id}`, 'data-institution-id': org.id }, h('code', {}, short(org.id, 12)));
  }
  return langText('span', pickText(org.name));
}

/**
 * Replaces the text of every link marked `data-institution-id` under `root` with the name of
 * the institution (from `GET /api/v1/records/{id}/current`; names only: the record page it links
 * to checks the signature). A name that does not load leaves the short id.
 */
export function fillInstitutionNames(root, ctx) {
  const links = [...root.querySelectorAll('a[data-institution-id]')];
  const ids = [...new Set(links.map((a) => a.getAttribute('data-institution-id')))];
  for (const id of ids) {
    getJson(`/api/v1/records/${id}/current`)
      .then((r) => {
        if (!ctx.alive()) return;
        const c = obj(r.current) || obj(r.body);
        const name = pickText(c?.name);
        if (!name) return;
        for (const a of links.filter((x) => x.getAttribute('data-institution-id') === id)) {
          a.setAttribute('lang', name.lang);
          a.textContent = name.text;
        }
      })
      .catch(() => {});
  }
}

function dl(rows) {
  return h('dl', { class: 'facts-list' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function tagList(items, nameOf) {
  return h('ul', { class: 'tags' }, items.map((x) => h('li', {}, nameOf(x))));
}

/** A partial-date span "2012 – 2018-06" (or "since 2012"). */
function span(start, end) {
  if (!start) return null;
  return end ? `${fmtPartial(start)} – ${fmtPartial(end)}` : t('expert.since', { start: fmtPartial(start) });
}

/** A mail link for an institutional address (the only contact a record may carry). */
function mail(address) {
  if (typeof address !== 'string' || !/^[^\s@<>"]+@[^\s@<>"]+$/.test(address)) return null;
  return h('a', { href: `mailto:${address}`, 'data-testid': 'contact-email' }, address);
}

/** The record page's facts of an expert. */
export function expertFacts(c) {
  const rows = [];
  const position = pickText(c.position);
  if (position) rows.push([t('expert.position'), langText('span', position)]);
  const inst = institutionLabel(c.institution);
  if (inst) rows.push([t('expert.institution'), inst]);
  if (c.country) rows.push([t('expert.listed_by'), codeLabel(c.country)]);
  rows.push([t('expert.public_official'), t(c.public_official === true ? 'expert.yes' : 'expert.no')]);
  const topics = Array.isArray(c.topics) ? c.topics : [];
  if (topics.length) rows.push([t('record.topics'), tagList(topics, topicName)]);
  const langs = Array.isArray(c.languages) ? c.languages : [];
  if (langs.length) rows.push([t('record.languages'), langs.map((l) => langName(l)).join(', ')]);
  const formats = Array.isArray(c.formats) ? c.formats : [];
  if (formats.length) rows.push([t('expert.formats'), tagList(formats, (f) => t(`format.${f}`))]);
  const contact = mail(c.contact_email);
  if (contact) rows.push([t('expert.contact'), [contact, ' ', h('span', { class: 'muted' }, t('expert.contact_hint'))]]);
  const consent = obj(c.consent);
  if (consent) {
    rows.push([t('expert.consent'), h('span', { 'data-testid': 'consent' }, t('expert.consent_text', {
      date: consent.date ? fmtLocal(consent.date) : '?',
      scope: t(`consent.${consent.scope ?? 'unknown'}`),
    }))]);
  }
  if (c.reconfirm_by) rows.push([t('expert.reconfirm_by'), h('span', { 'data-testid': 'reconfirm-by' }, fmtLocal(c.reconfirm_by))]);

  const affiliations = (Array.isArray(c.affiliations) ? c.affiliations : []).filter(obj);
  const works = (Array.isArray(c.works) ? c.works : []).filter(obj);
  return [
    h('section', { class: 'record-facts', 'data-testid': 'expert-facts' }, dl(rows)),
    affiliations.length
      ? h('section', { class: 'record-facts', 'aria-labelledby': 'affiliations-heading', 'data-testid': 'affiliations' },
        h('h2', { id: 'affiliations-heading' }, t('expert.affiliations')),
        h('ul', { class: 'links' }, affiliations.map((a) => {
          const role = pickText(a.role);
          return h('li', {}, institutionLabel(a.organisation) ?? '?', role ? [', ', langText('span', role)] : null,
            a.start ? [' ', h('span', { class: 'muted' }, `(${span(a.start, a.end)})`)] : null);
        })))
      : null,
    works.length
      ? h('section', { class: 'record-facts', 'aria-labelledby': 'works-heading', 'data-testid': 'works' },
        h('h2', { id: 'works-heading' }, t('expert.works')),
        h('ul', { class: 'links' }, works.map((w) => {
          const title = pickText(w.title);
          return h('li', {}, extLink(w.url, title ? h('span', { lang: title.lang }, title.text) : undefined));
        })))
      : null,
  ];
}

/** The record page's facts of an institution, and the list of what names it (filled later). */
export function institutionFacts(c) {
  const rows = [];
  if (c.type) rows.push([t('institution.type'), t(`itype.${c.type}`)]);
  if (c.country) rows.push([t('record.country'), codeLabel(c.country)]);
  if (c.parent) {
    rows.push([t('institution.parent'), institutionLabel({ id: c.parent })]);
  }
  if (c.website) rows.push([t('institution.website'), extLink(c.website)]);
  const ids = [];
  if (c.wikidata) ids.push(h('li', {}, extLink(`https://www.wikidata.org/wiki/${encodeURIComponent(c.wikidata)}`, `Wikidata ${c.wikidata}`)));
  if (c.ror) ids.push(h('li', {}, extLink(`https://ror.org/${encodeURIComponent(c.ror)}`, `ROR ${c.ror}`)));
  if (ids.length) rows.push([t('institution.identifiers'), h('ul', { class: 'links' }, ids)]);
  const topics = Array.isArray(c.topics) ? c.topics : [];
  if (topics.length) rows.push([t('record.topics'), tagList(topics, topicName)]);
  const langs = Array.isArray(c.languages) ? c.languages : [];
  if (langs.length) rows.push([t('record.languages'), langs.map((l) => langName(l)).join(', ')]);
  const contact = mail(c.contact_email);
  if (contact) rows.push([t('institution.contact'), contact]);
  return [
    h('section', { class: 'record-facts', 'data-testid': 'institution-facts' }, dl(rows)),
    h('section', { class: 'record-facts references', 'aria-labelledby': 'references-heading', 'data-testid': 'references' },
      h('h2', { id: 'references-heading' }, t('institution.references')),
      h('p', { class: 'loading' }, t('loading'))),
  ];
}

/** Fills an institution page's list of the records that name it. */
export async function fillReferences(main, id, ctx) {
  const box = main.querySelector('[data-testid="references"]');
  if (!box) return;
  let answer;
  try {
    answer = await getJson(`/api/v1/institutions/${id}/references`);
  } catch (e) {
    if (!ctx.alive()) return;
    box.querySelector('.loading')?.remove();
    box.append(errorBox(e.message));
    return;
  }
  if (!ctx.alive()) return;
  box.querySelector('.loading')?.remove();
  const records = (Array.isArray(answer.records) ? answer.records : []).filter(obj);
  box.append(records.length
    ? h('ul', { class: 'links' }, records.map((r) => {
      const title = pickText(r.title);
      return h('li', { 'data-id': r.id, 'data-kind': r.kind, 'data-testid': 'reference' },
        h('span', { class: `badge kind-${r.kind}` }, t(`kind.${r.kind}`)), ' ',
        h('a', { href: `/records/${r.id}`, lang: title?.lang }, title ? title.text : short(r.id, 16)),
        r.member ? [' ', h('span', { class: 'muted' }, `· ${r.member}`)] : null);
    }))
    : h('p', { class: 'empty' }, t('institution.references_none')));
}
