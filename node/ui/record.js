// The record page (`/records/{id}`): the content in force (a practice, an event, a reform
// profile with its reforms and indicators, an institution with what names it, an expert's
// profile: directory.js draws those two), its amendment and retraction notices, the author and
// chain position, citation links, and the signature panel: the browser first checks the network's
// committee-signed charter and decisions itself (trust.js) and holds the network id against the
// one pinned in this browser, then checks every signed record shown here (verify.js) before the
// page says "verified". Members, status and vocabulary from the node serve names only.
//
// An erased record (docs/PROTOCOL.md §2.1) has no body any more: the page shows its header,
// author, seq and signature, says "Erased on <date> (ground: …)" from the proof the browser
// checked (the author's erasure record, or a committee decision of the trusted governance), and
// never calls it forged: its signature still verifies over the header.

import {
  h, replace, getJson, errorBox, extLink, insertSanitisedHtml, langText, short, ApiError, dataTable,
} from './dom.js';
import {
  t, pickText, topicName, langName, fmtDate, fmtDateTime, fmtLocal, fmtPartial, zonedToUtc, getLang,
} from './i18n.js';
import {
  getMembers, getTrust, getVocabulary, checkPin, setPin, codeLabel, placeName, areaName, indicatorName,
  indicatorOf,
} from './data.js';
import { verifyRecord } from './verify.js';
import { fmtMeasure, fmtValueYear, isMeasure, statusName, textBlocks, unitLabel } from './profile.js';
import { expertFacts, institutionFacts, fillReferences, fillInstitutionNames } from './directory.js';
import { confirmationNotice, fillProgramme, fillTitles, programmeFacts, programmeSections } from './programme.js';

/** The kinds a record page shows as content (the others change or erase a record). */
const CONTENT_KINDS = ['practice', 'event', 'reform_profile', 'institution', 'expert', 'programme'];
/** The kinds that change or confirm another record, shown as notices with a link to it. */
const CHANGE_KINDS = ['amendment', 'retraction', 'erasure', 'confirmation'];

const ID = /^[0-9a-fA-F]{64}$/;

/** Loads a record: the current state if the node has it, else the stored record alone. */
async function load(id) {
  try {
    return await getJson(`/api/v1/records/${id}/current`);
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 400)) throw e;
    // An amendment or retraction (or a node without /current): the record as stored.
    return await getJson(`/api/v1/records/${id}`);
  }
}

function obj(x) {
  return x && typeof x === 'object' && !Array.isArray(x) ? x : null;
}

export async function mount(main, state, ctx) {
  const id = ctx.params[0] || '';
  if (!ID.test(id)) {
    document.title = `${t('record.bad_id')} · hubnet`;
    replace(main, h('h1', {}, t('page.not_found')), errorBox(t('record.bad_id')));
    return;
  }
  main.append(h('p', { class: 'loading' }, t('loading')));
  let r;
  try {
    r = await load(id.toLowerCase());
  } catch (e) {
    if (!ctx.alive()) return;
    document.title = `${t('error.title')} · hubnet`;
    replace(main, h('h1', {}, t('error.title')), errorBox(e.message));
    return;
  }
  if (!ctx.alive()) return;
  // Members for names only; the trust (keys, network id) the browser derives itself from the
  // signed charter and decisions. Failures to load are reported by the checks.
  const [, trust] = await Promise.all([
    getMembers().catch(() => null),
    getTrust(),
    getVocabulary().catch(() => null),
  ]);
  if (!ctx.alive()) return;
  const model = modelOf(r, id.toLowerCase());
  replace(main, render(model));
  state.model = model;
  if (model.content?.kind === 'institution' && !model.erased) fillReferences(main, model.id, ctx);
  fillInstitutionNames(main, ctx);
  fillTitles(main, ctx);
  runChecks(main, model, trust, ctx);
  if (model.kind === 'programme' && model.content?.kind === 'programme' && !model.erased) fillProgramme(main, model, trust, ctx);
}

/** What the page shows, from the answer of `/current` or of `/records/{id}`. */
function modelOf(r, id) {
  const body = obj(r.body) || {};
  const kind = r.kind || body.kind;
  let content = obj(r.current);
  let direct = null; // an amendment, retraction or erasure opened by its own id
  const erased = r.erased === true;
  if (!content) {
    if (CONTENT_KINDS.includes(kind)) content = erased ? null : body;
    else if (kind === 'amendment') {
      content = obj(body.record);
      direct = 'amendment';
    } else if (CHANGE_KINDS.includes(kind)) {
      direct = kind;
    }
  }
  return {
    id,
    r,
    kind,
    direct,
    erased,
    content: content || null,
    amendment: obj(r.amendment),
    retraction: obj(r.retraction),
    html: obj(r.html),
  };
}

function render(m) {
  const { r, content } = m;
  const ck = m.direct || content?.kind || m.kind;
  const title = pickText(content?.title ?? content?.name);
  document.title = `${title ? title.text : m.erased ? t('record.erased_title') : short(m.id, 12)} · hubnet`;

  const notices = [];
  if (m.erased) {
    // Filled in from the proof once the browser checked it (runChecks).
    notices.push(h('div', { class: 'notice warn', role: 'note', 'data-testid': 'erased-notice', 'data-state': 'pending' },
      h('strong', {}, t('record.erased_pending'))));
  }
  if (m.direct === 'confirmation') {
    notices.push(confirmationNotice(r.body));
  } else if (m.direct === 'erasure') {
    const target = typeof r.body?.target === 'string' ? r.body.target : null;
    notices.push(h('div', { class: 'notice info', 'data-testid': 'erasure-of' },
      t('record.is_erasure'), ' ',
      target ? h('a', { href: `/records/${target}` }, t('record.target_link'), ' ', h('code', {}, short(target, 16))) : null,
      r.body?.ground ? [' ', t('record.erasure_ground', { ground: t(`ground.${r.body.ground}`) })] : null));
  } else if (m.direct) {
    const target = typeof r.body?.target === 'string' ? r.body.target : null;
    notices.push(
      h(
        'div',
        { class: 'notice info' },
        t(m.direct === 'amendment' ? 'record.is_amendment' : 'record.is_retraction'),
        ' ',
        target ? h('a', { href: `/records/${target}` }, t('record.target_link'), ' ', h('code', {}, short(target, 16))) : null,
      ),
    );
    const extra = pickText(m.direct === 'amendment' ? r.body?.note : r.body?.reason);
    if (extra) {
      notices.push(
        h('div', { class: `notice ${m.direct === 'retraction' ? 'danger' : 'info'}` },
          t(m.direct === 'amendment' ? 'record.amended_note' : 'record.retracted_reason'), ' ',
          langText('span', extra)),
      );
    }
  }
  if (m.retraction || r.retracted === true) {
    const reason = pickText(m.retraction?.body?.reason);
    notices.push(
      h(
        'div',
        { class: 'notice danger', role: 'note', 'data-testid': 'retracted-notice' },
        h('strong', {}, t('record.retracted', { date: fmtDate(m.retraction?.created_at ?? r.updated_at) })),
        reason ? [' ', t('record.retracted_reason'), ' ', langText('span', reason)] : null,
      ),
    );
  }
  if (m.amendment) {
    const note = pickText(m.amendment.body?.note);
    notices.push(
      h(
        'div',
        { class: 'notice info', 'data-testid': 'amended-notice' },
        t('record.amended', { date: fmtDate(m.amendment.created_at) }),
        note ? [' ', t('record.amended_note'), ' ', langText('span', note)] : null,
      ),
    );
  }
  if (content?.kind === 'event' && (content.status === 'cancelled' || content.status === 'postponed')) {
    notices.push(
      h('div', { class: `notice ${content.status === 'cancelled' ? 'danger' : 'warn'}`, role: 'note' },
        h('strong', {}, t(content.status === 'cancelled' ? 'record.cancelled' : 'record.postponed'))),
    );
  }

  const country = content?.country || r.member;
  const h1 = h(
    'h1',
    {
      'data-testid': 'record-title',
      lang: title?.lang,
      class: content?.status === 'cancelled' ? 'struck' : null,
    },
    title ? title.text : m.erased ? t('record.erased_heading', { kind: t(`kind.${ck}`) }) : t(`kind.${ck}`),
  );
  const profile = content?.kind === 'reform_profile';
  const summary = content?.kind === 'practice' || profile ? pickText(content.summary) : null;
  const sample = (profile || content?.kind === 'expert' || content?.kind === 'institution') && content.sample === true;

  const article = h(
    'article',
    { class: 'record', 'data-kind': ck },
    h(
      'header',
      { class: 'record-head' },
      h(
        'p',
        { class: 'kicker' },
        h('span', { class: `badge kind-${ck}` }, t(`kind.${ck}`)),
        ' ',
        country ? h('span', {}, codeLabel(country)) : null,
        sample
          ? [' ', h('span', { class: 'badge warn', 'data-testid': 'sample-badge' }, t('badge.sample'))]
          : null,
        m.erased ? [' ', h('span', { class: 'badge danger', 'data-testid': 'erased-badge' }, t('badge.erased'))] : null,
        m.amendment ? [' ', h('span', { class: 'badge info' }, t('badge.amended'))] : null,
        m.retraction || r.retracted === true ? [' ', h('span', { class: 'badge danger' }, t('badge.retracted'))] : null,
      ),
      h1,
      h('p', { class: 'verify-line' },
        h('a', { href: '#verify', class: 'verify-badge pending', 'data-testid': 'verify-badge' }, t('verify.pending'))),
      summary ? h('p', { class: 'lead', lang: summary.lang, 'data-testid': 'record-summary' }, summary.text) : null,
    ),
    notices,
    content?.kind === 'event' ? eventFacts(content) : null,
    profile ? profileFacts(content) : null,
    content?.kind === 'expert' ? expertFacts(content) : null,
    content?.kind === 'institution' ? institutionFacts(content) : null,
    content?.kind === 'programme' ? programmeFacts(content) : null,
    bodySection(m),
    profile ? profileSections(content) : null,
    content?.kind === 'programme' ? programmeSections(content) : null,
    content && !profile && !['expert', 'institution', 'programme'].includes(content.kind) ? facts(content) : null,
  );

  const verifyStatus = h(
    'div',
    { class: 'verify-status pending', 'data-testid': 'verify-status', 'data-verified': 'pending', role: 'status' },
    t('verify.pending'),
  );
  const side = h(
    'aside',
    { class: 'record-side', 'aria-label': t('record.details') },
    h(
      'section',
      { class: 'verify', id: 'verify', 'aria-labelledby': 'verify-heading' },
      h('h2', { id: 'verify-heading' }, t('verify.title')),
      verifyStatus,
      h('div', { class: 'verify-network', 'data-testid': 'verify-network' }),
      h('div', { class: 'verify-checks' }),
      h('p', { class: 'hint' }, t('verify.how')),
    ),
    details(m),
    citation(m),
  );
  return h('div', { class: 'record-layout' }, article, side);
}

function eventFacts(e) {
  const rows = [];
  const zone = e.time_zone || '';
  const start = e.start ? fmtLocal(e.start) : '';
  const end = e.end ? fmtLocal(e.end) : '';
  if (start) {
    const when = [h('span', {}, end ? `${start} – ${end}` : start), zone ? ` (${zone})` : ''];
    const readerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const utc = zone ? zonedToUtc(e.start, zone) : null;
    if (utc !== null && readerZone && readerZone !== zone) {
      when.push(h('br'), h('span', { class: 'muted' }, t('record.your_time', { time: `${fmtDateTime(utc)} (${readerZone})` })));
    }
    rows.push([t('record.when'), when]);
  }
  if (e.event_type) rows.push([t('record.event_type'), t(`type.${e.event_type}`)]);
  if (e.status) {
    rows.push([t('record.status'), h('span', { class: `status-${e.status}` }, t(`status.${e.status}`))]);
  }
  const place = obj(e.place);
  if (place) {
    const name = pickText(place.name);
    const address = pickText(place.address);
    rows.push([
      t('record.place'),
      [langText('span', name), name && address ? ', ' : null, langText('span', address),
        place.country ? ` (${codeLabel(place.country)})` : null],
    ]);
  }
  if (e.online_url) rows.push([t('record.online'), extLink(e.online_url)]);
  const organiser = pickText(e.organiser);
  if (organiser) rows.push([t('record.organiser'), langText('span', organiser)]);
  if (Array.isArray(e.languages) && e.languages.length) {
    rows.push([t('record.languages'), e.languages.map((l) => langName(l)).join(', ')]);
  }
  if (e.registration_url || e.registration_deadline) {
    rows.push([
      t('record.registration'),
      [e.registration_url ? extLink(e.registration_url) : null,
        e.registration_url && e.registration_deadline ? h('br') : null,
        e.registration_deadline ? t('record.registration_deadline', { date: fmtLocal(e.registration_deadline) }) : null],
    ]);
  }
  return h('section', { class: 'event-facts', 'data-testid': 'event-facts' }, dl(rows));
}

function dl(rows) {
  return h('dl', { class: 'facts-list' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** The Markdown text of a content (rendered by the node as `html`): body, description or findings. */
function markdownOf(c) {
  if (!c) return null;
  if (c.kind === 'event') return c.description;
  if (c.kind === 'reform_profile') return c.findings;
  if (c.kind === 'expert') return c.summary;
  if (c.kind === 'institution') return c.mandate;
  if (c.kind === 'programme') return c.description;
  return c.body;
}

function bodySection(m) {
  const c = m.content;
  if (!c) return null;
  const source = markdownOf(c);
  const picked = pickText(source);
  if (!picked) return null;
  const el = h('div', { class: 'record-body prose', 'data-testid': 'record-body', lang: picked.lang });
  const html = m.html && typeof m.html[picked.lang] === 'string' ? m.html[picked.lang] : null;
  if (html !== null) {
    insertSanitisedHtml(el, html);
  } else {
    // No rendered HTML from the node: the Markdown is shown as plain text paragraphs.
    for (const para of picked.text.split(/\n{2,}/)) {
      if (para.trim()) el.append(h('p', {}, para.trim()));
    }
  }
  const others = Object.keys(source).filter((k) => k !== picked.lang);
  return h(
    'section',
    { class: 'body-section' },
    c.kind === 'reform_profile' ? h('h2', {}, t('profile.findings')) : null,
    c.kind === 'expert' ? h('h2', {}, t('expert.summary')) : null,
    c.kind === 'institution' ? h('h2', {}, t('institution.mandate')) : null,
    el,
    others.length
      ? h('p', { class: 'hint' }, t('record.shown_in', { lang: langName(picked.lang), others: others.map(langName).join(', ') }))
      : null,
    h('details', { class: 'signed-source', hidden: true }, h('summary', {}, t('record.markdown')), h('pre', { lang: picked.lang })),
  );
}

function facts(c) {
  const rows = [];
  const country = c.country;
  if (country) rows.push([t('record.country'), codeLabel(country)]);
  if (Array.isArray(c.topics) && c.topics.length) {
    rows.push([t('record.topics'), h('ul', { class: 'tags' }, c.topics.map((x) => h('li', {}, topicName(x))))]);
  }
  const period = obj(c.reform_period);
  if (period && period.start) {
    rows.push([t('record.reform_period'), `${fmtPartial(period.start)} – ${period.end ? fmtPartial(period.end) : t('record.ongoing')}`]);
  }
  const results = pickText(c.results);
  if (results) rows.push([t('record.results'), langText('span', results)]);
  if (Array.isArray(c.links) && c.links.length) {
    rows.push([
      t('record.links'),
      h('ul', { class: 'links' }, c.links.map((l) => {
        const title = pickText(l?.title);
        return h('li', {}, extLink(l?.url, title ? h('span', { lang: title.lang }, title.text) : undefined));
      })),
    ]);
  }
  if (c.license) rows.push([t('record.license'), c.license]);
  return rows.length ? h('section', { class: 'record-facts' }, dl(rows)) : null;
}

/** A partial-date period "2025-07 – 2026-06" for people; null without a start. */
function periodText(p) {
  const period = obj(p);
  if (!period || !period.start) return null;
  return `${fmtPartial(period.start)} – ${period.end ? fmtPartial(period.end) : t('record.ongoing')}`;
}

/** A profile's facts: country (with its page), as_of, period, reform areas. */
function profileFacts(c) {
  const rows = [];
  if (c.country) {
    rows.push([t('record.country'), [
      codeLabel(c.country), ' · ',
      h('a', { href: `/countries/${encodeURIComponent(c.country)}`, 'data-testid': 'country-link' },
        t('profile.country_page', { country: placeName(c.country) || c.country })),
    ]]);
  }
  if (c.as_of) rows.push([t('profile.as_of'), h('span', { 'data-testid': 'profile-as-of' }, fmtLocal(c.as_of))]);
  const period = periodText(c.period);
  if (period) rows.push([t('profile.period'), period]);
  if (Array.isArray(c.reform_areas) && c.reform_areas.length) {
    rows.push([t('profile.areas'), h('ul', { class: 'tags', 'data-testid': 'profile-areas' },
      c.reform_areas.map((x) => h('li', { 'data-area': x }, areaName(x))))]);
  }
  return h('section', { class: 'record-facts profile-facts' }, dl(rows));
}

/** Markdown the node does not render, as text blocks (lists stay lists; nothing becomes HTML). */
function textSection(key, map, testid) {
  const picked = pickText(map);
  if (!picked) return null;
  const blocks = textBlocks(picked.text).map((b) => {
    if (b.type === 'ul' || b.type === 'ol') return h(b.type, {}, b.items.map((x) => h('li', {}, x)));
    if (b.type === 'h') return h('h3', {}, b.text);
    return h('p', {}, b.text);
  });
  return h('section', { class: 'profile-text', 'data-testid': testid },
    h('h2', {}, t(key)), h('div', { class: 'prose', lang: picked.lang }, blocks));
}

/** The sections of a reform profile after its findings. */
function profileSections(c) {
  const previous = typeof c.previous === 'string' && c.previous ? c.previous : null;
  const evidence = Array.isArray(c.evidence) ? c.evidence.filter((x) => typeof x === 'string') : [];
  const links = [];
  if (c.license) links.push([t('record.license'), c.license]);
  links.push([t('profile.previous'), previous
    ? h('a', { href: `/records/${previous}`, 'data-testid': 'previous-profile' }, h('code', {}, short(previous, 16)))
    : t('profile.first')]);
  return [
    textSection('profile.challenges', c.challenges, 'profile-challenges'),
    textSection('profile.next_steps', c.next_steps, 'profile-next-steps'),
    reformsTable(Array.isArray(c.reforms) ? c.reforms : []),
    indicatorsTable(Array.isArray(c.indicators) ? c.indicators : []),
    evidence.length
      ? h('section', { class: 'profile-evidence', 'data-testid': 'profile-evidence' },
        h('h2', {}, t('profile.evidence')),
        h('p', { class: 'hint' }, t('profile.evidence_hint')),
        h('ul', { class: 'links' }, evidence.map((id) =>
          h('li', {}, h('a', { href: `/records/${id}`, 'data-id': id }, h('code', {}, short(id, 16)))))))
      : null,
    h('section', { class: 'record-facts' }, dl(links)),
  ];
}

function legalAct(a) {
  const act = obj(a);
  if (!act) return t('profile.none');
  const name = pickText(act.name);
  const label = name ? h('span', { lang: name.lang }, name.text) : t('profile.legal_act');
  const bits = [act.number ? t('profile.legal_act_no', { number: act.number }) : null, act.date ? fmtLocal(act.date) : null]
    .filter(Boolean);
  return [
    act.url ? extLink(act.url, label) : label,
    bits.length ? [h('br'), h('span', { class: 'muted' }, bits.join(', '))] : null,
  ];
}

function reformsTable(reforms) {
  const headers = [t('profile.reform'), t('profile.status'), t('profile.area'), t('profile.legal_act'),
    t('profile.lead'), t('profile.period')];
  const rows = reforms.map((r) => {
    const title = pickText(r?.title);
    const objectives = pickText(r?.objectives);
    const lead = pickText(r?.lead_institution);
    return {
      attrs: { 'data-status': r?.status || 'unknown' },
      cells: [
        [title ? h('strong', { lang: title.lang }, title.text) : null,
          objectives
            ? h('details', { class: 'objectives small' }, h('summary', {}, t('profile.objectives_show')),
              h('p', { class: 'muted', lang: objectives.lang }, objectives.text))
            : null],
        h('span', { class: `reform-status status-${r?.status || 'unknown'}` }, statusName(r?.status)),
        r?.reform_area ? areaName(r.reform_area) : t('profile.none'),
        legalAct(r?.legal_act),
        lead ? h('span', { lang: lead.lang }, lead.text) : t('profile.none'),
        periodText(r?.period) ?? t('profile.none'),
      ],
    };
  });
  return h('section', { class: 'profile-reforms', 'data-testid': 'profile-reforms' },
    h('h2', {}, t('profile.reforms')),
    rows.length ? dataTable(headers, rows, { block: true }) : h('p', { class: 'empty' }, t('profile.no_reforms')));
}

function sourceOf(s) {
  const source = obj(s);
  if (!source) return t('profile.none');
  const name = pickText(source.name);
  const label = name ? h('span', { lang: name.lang }, name.text) : source.url;
  return [source.url ? extLink(source.url, label) : label,
    source.license ? [h('br'), h('span', { class: 'muted' }, t('profile.licence', { license: source.license }))] : null];
}

function measureText(m, unit) {
  return isMeasure(m) ? fmtMeasure(m, unit) : t('profile.none');
}

function indicatorsTable(indicators) {
  const headers = [t('profile.indicator'), t('profile.value'), t('profile.source'), t('profile.baseline'), t('profile.target')];
  const rows = indicators.map((x) => {
    const unit = x?.unit || indicatorOf(x?.code)?.unit || '';
    const has = typeof x?.value === 'number';
    const why = pickText(x?.not_available);
    const value = has
      ? h('strong', { class: 'value' }, fmtValueYear(x.value, x.year, unit))
      : h('span', { class: 'missing' }, h('strong', {}, t('cell.not_available')),
        why ? [': ', h('span', { lang: why.lang }, why.text)] : null);
    return {
      attrs: { 'data-indicator': x?.code ?? '', 'data-status': has ? 'value' : 'not_available' },
      cells: [
        [h('span', {}, indicatorName(x?.code)), h('br'), h('code', { class: 'muted small' }, x?.code ?? ''),
          unit ? [' · ', h('span', { class: 'muted small' }, unitLabel(unit))] : null],
        value,
        sourceOf(x?.source),
        measureText(x?.baseline, unit),
        measureText(x?.target, unit),
      ],
    };
  });
  return h('section', { class: 'profile-indicators', 'data-testid': 'profile-indicators' },
    h('h2', {}, t('profile.indicators')),
    rows.length ? dataTable(headers, rows, { block: true }) : h('p', { class: 'empty' }, t('profile.no_indicators')));
}

function details(m) {
  const r = m.r;
  const member = r.member || '';
  const name = placeName(member);
  const rows = [
    [t('record.author'), [h('strong', {}, member), name ? ` · ${name}` : null,
      r.author ? [h('br'), h('code', { class: 'key', title: r.author }, short(r.author, 16))] : null]],
    [t('record.chain'), [
      `${t('record.seq')} ${r.seq ?? '?'}`, h('br'), `${t('record.prev')}: `,
      r.prev ? h('a', { href: `/records/${r.prev}` }, h('code', {}, short(r.prev, 16))) : t('record.first')]],
    [t('record.created'), fmtDateTime(r.created_at ?? r.created_at_ms)],
  ];
  if (r.updated_at && r.updated_at !== r.created_at) rows.push([t('record.updated'), fmtDateTime(r.updated_at)]);
  if (m.amendment?.id) {
    rows.push([t('record.amendment_id'), h('a', { href: `/records/${m.amendment.id}` }, h('code', {}, short(m.amendment.id, 16)))]);
  }
  if (m.retraction?.id) {
    rows.push([t('record.retraction_id'), h('a', { href: `/records/${m.retraction.id}` }, h('code', {}, short(m.retraction.id, 16)))]);
  }
  return h('section', { class: 'details' }, h('h2', {}, t('record.details')), dl(rows));
}

function citation(m) {
  const url = `${location.origin}/records/${m.id}`;
  const input = h('input', { id: 'stable-url', type: 'text', readonly: true, value: url, 'data-testid': 'stable-url' });
  const copy = h('button', {
    type: 'button',
    class: 'secondary small',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(url);
        copy.textContent = t('record.copied');
      } catch {
        input.select();
      }
    },
  }, t('record.copy'));
  return h(
    'section',
    { class: 'cite' },
    h('h2', {}, t('record.cite')),
    h('ul', {},
      h('li', {}, h('a', { href: `/api/v1/records/${m.id}/citation?format=bibtex&display_lang=${getLang()}`, 'data-testid': 'cite-bibtex' }, t('record.cite_bibtex'))),
      h('li', {}, h('a', { href: `/api/v1/records/${m.id}/citation?format=csl-json&display_lang=${getLang()}`, 'data-testid': 'cite-csl' }, t('record.cite_csl'))),
      h('li', {}, h('a', { href: `/api/v1/records/${m.id}` }, t('record.cite_json'))),
    ),
    h('label', { for: 'stable-url' }, t('record.cite_url')),
    h('div', { class: 'copy-row' }, input, copy),
  );
}

/** The text of one named check, in the interface language. */
export function checkText(c) {
  const a = { ...c.args };
  for (const k of ['key', 'id', 'pinned', 'other']) if (typeof a[k] === 'string') a[k] = short(a[k], 16);
  if (a.problem) a.problem = t(`key.problem.${a.problem}`);
  if (a.who === 'committee') a.who = t('verify.committee');
  switch (c.key) {
    case 'author':
      if (!c.ok && a.claimed) return `${t('check.author.fail', a)} (${a.claimed} ≠ ${a.code})`;
      break;
    case 'charter-signatures':
      if (!c.ok) return t(`check.charter-signatures.fail.${a.reason}`, a);
      break;
    case 'decisions':
      if (!c.ok) return t('check.decisions.fail', { ...a, why: t(`decision.why.${a.reason}`, a) });
      break;
    case 'signature':
      if (!c.ok) return t('check.signature.fail', { why: t(`signature.why.${a.check}`, a) });
      break;
    case 'erasure':
      if (c.ok) return t(`check.erasure.ok.${a.by}`, { ...a, ground: t(`ground.${a.ground}`) });
      return t('check.erasure.fail', { why: t(`erasure.why.${a.reason}`, a) });
    case 'pin':
      if (c.ok) return t(`check.pin.ok.${a.state}`, a);
      break;
    case 'key-valid': {
      const d = c.args.decision;
      const decision = d ? t('decision.name', { seq: d.seq, id: short(d.id, 12), type: t(`decision.type.${d.type}`) }) : '';
      if (c.ok) return t(a.last === null ? 'check.key-valid.ok' : 'check.key-valid.ok_until', a);
      return t('check.key-valid.fail', { ...a, decision });
    }
    default:
      break;
  }
  return t(`check.${c.key}.${c.ok ? 'ok' : 'fail'}`, a);
}

/** The first failing check of a part, if any. */
function firstFailure(res) {
  return res.checks.find((c) => !c.ok) || { key: 'header', ok: false, args: {} };
}

/**
 * The network id panel: the id derived from the signed charter, whether this browser pinned it,
 * and the controls to pin it or forget the pin.
 */
function networkPanel(box, trust, pin, ctx) {
  const rerender = () => ctx.navigate(location.pathname + location.search, { replace: true, focus: false });
  const state = pin.args.state;
  const buttons = [];
  if (trust.ok && (state === 'mismatch' || state === 'untrusted')) {
    buttons.push(h('button', {
      type: 'button', class: 'secondary small', 'data-testid': 'pin-set',
      onclick: () => { setPin(trust.networkId); rerender(); },
    }, t(state === 'mismatch' ? 'pin.replace' : 'pin.pin')));
  }
  if (state === 'match' || state === 'new' || state === 'mismatch') {
    buttons.push(h('button', {
      type: 'button', class: 'secondary small', 'data-testid': 'pin-forget',
      onclick: () => { setPin(null); rerender(); },
    }, t('pin.forget')));
  }
  replace(
    box,
    h('h3', {}, t('pin.title')),
    trust.networkId
      ? h('p', {}, t('pin.derived'), ' ', h('code', { class: 'hex', 'data-testid': 'trusted-network-id' }, trust.networkId))
      : null,
    h('p', { class: pin.ok ? 'muted' : 'pin-mismatch', 'data-testid': 'pin-state', 'data-state': state },
      pin.ok ? checkText(pin) : h('strong', {}, checkText(pin))),
    buttons.length ? h('p', { class: 'pin-controls' }, buttons) : null,
  );
}

/**
 * Checks the network's charter and decisions (already done in `trust`) and the pin, then the
 * original, its amendment and its retraction; fills the signature panel.
 */
async function runChecks(main, m, trust, ctx) {
  const status = main.querySelector('[data-testid="verify-status"]');
  const list = main.querySelector('.verify-checks');
  const pin = checkPin(trust, { pinFirst: true });
  networkPanel(main.querySelector('[data-testid="verify-network"]'), trust, pin, ctx);
  const charterPart = {
    label: 'charter',
    rec: null,
    res: { ok: trust.ok && pin.ok, checks: [...trust.checks, pin] },
  };
  const parts = [charterPart];
  const done = [];
  let first;
  try {
    const content = m.content || undefined;
    const kinds = m.direct ? [m.direct] : CONTENT_KINDS;
    // An erased record's proof is checked by verifyRecord (the `erasure` check).
    first = await verifyRecord(m.r, trust, {
      id: m.id,
      kinds,
      content: m.amendment || m.direct === 'retraction' ? undefined : content,
    });
    done.push({ label: 'original', rec: m.r, res: first });
    if (m.amendment) {
      const res = await verifyRecord(m.amendment, trust, {
        kinds: ['amendment'],
        target: m.id,
        author: first.author || m.r.author,
        content,
      });
      done.push({ label: 'amendment', rec: m.amendment, res });
    }
    if (m.retraction) {
      const res = await verifyRecord(m.retraction, trust, {
        kinds: ['retraction'],
        target: m.id,
        author: first.author || m.r.author,
      });
      done.push({ label: 'retraction', rec: m.retraction, res });
    }
  } catch (e) {
    done.push({ label: 'original', rec: m.r, res: { ok: false, checks: [{ key: 'header', ok: false, args: { detail: String(e?.message ?? e) } }] } });
  }
  if (!ctx.alive()) return;
  parts.push(...done);
  if (m.erased) showErased(main, first);

  for (const p of parts) {
    list.append(
      h(
        'section',
        { class: 'verify-part', 'data-testid': 'verify-part', 'data-part': p.label, 'data-verified': String(p.res.ok) },
        h('h3', {}, t(`verify.part.${p.label}`), ' ', p.rec?.id ? h('code', {}, short(p.rec.id, 12)) : null),
        h(
          'ul',
          { class: 'checks' },
          p.res.checks.map((c) =>
            h('li', { class: c.ok ? 'ok' : 'fail', 'data-check': c.key },
              h('span', { class: 'icon', 'aria-hidden': 'true' }, c.ok ? '✓' : '✗'), ' ', checkText(c)),
          ),
        ),
      ),
    );
  }

  const failed = parts.find((p) => !p.res.ok);
  status.classList.remove('pending');
  const badge = main.querySelector('[data-testid="verify-badge"]');
  if (badge) {
    badge.classList.remove('pending');
    badge.classList.add(failed ? 'fail' : 'ok');
    replace(badge, failed ? `✗ ${t('verify.bad_short')}` : `✓ ${t('verify.ok_short')}`);
  }
  if (!failed) {
    status.setAttribute('data-verified', 'true');
    status.classList.add('ok');
    replace(
      status,
      h('span', { class: 'icon', 'aria-hidden': 'true' }, '✓ '),
      t('verify.ok', { code: first.member, key: short(first.author, 8) }),
      first.erased ? [h('br'), h('span', { 'data-testid': 'verify-erased' }, t('verify.erased'))] : null,
      done.length > 1 ? [h('br'), h('span', { class: 'muted' }, t('verify.ok_count', {
        n: done.length,
        parts: done.map((p) => t(`verify.part.${p.label}`).toLocaleLowerCase(getLang())).join(', '),
      }))] : null,
    );
    showSignedSource(main, done);
  } else {
    const bad = firstFailure(failed.res);
    const why = checkText(bad);
    status.setAttribute('data-verified', 'false');
    status.setAttribute('data-check', bad.key);
    if (bad.args?.reason) status.setAttribute('data-reason', bad.args.reason);
    status.classList.add('fail');
    status.setAttribute('role', 'alert');
    replace(
      status,
      h('span', { class: 'icon', 'aria-hidden': 'true' }, '✗ '),
      h('strong', {}, t('verify.fail', {
        why: failed.label === 'original' ? why : t('verify.in', { record: t(`verify.part.${failed.label}`), why }),
      })),
    );
  }
}

/** After a successful check: the Markdown exactly as signed, for readers who want to compare. */
function showSignedSource(main, parts) {
  const details = main.querySelector('.signed-source');
  const pre = details?.querySelector('pre');
  if (!pre) return;
  const signer = parts.find((p) => p.label === 'amendment') || parts[0];
  const b = signer.res.body;
  const content = b?.kind === 'amendment' ? b.content : b;
  const source = markdownOf(content);
  const lang = pre.getAttribute('lang');
  if (source && typeof source[lang] === 'string') {
    pre.textContent = source[lang];
    details.hidden = false;
  }
}

/**
 * The erased notice, from the proof the browser checked: "Erased on <date> (ground: …)" and by
 * whom (the author's erasure record, or a committee decision); when the proof does not check,
 * says so (the record is then not verified, but never called forged: its header still is signed).
 */
function showErased(main, res) {
  const box = main.querySelector('[data-testid="erased-notice"]');
  if (!box) return;
  const e = res?.erased;
  if (!e) {
    box.setAttribute('data-state', 'unproven');
    box.classList.replace('warn', 'danger');
    replace(box, h('strong', {}, t('record.erased_unproven')));
    return;
  }
  box.setAttribute('data-state', 'verified');
  const date = fmtDate(Number(e.createdAt));
  replace(
    box,
    h('strong', {}, t('record.erased', { date, ground: t(`ground.${e.ground}`) })),
    ' ',
    e.by === 'record'
      ? [t('record.erased_by_record'), ' ', h('a', { href: `/records/${e.id}`, 'data-testid': 'erasure-link' }, h('code', {}, short(e.id, 16)))]
      : [t('record.erased_by_decision', { seq: String(e.seq) }), ' ', h('code', {}, short(e.id, 16))],
    h('br'),
    h('span', { class: 'muted' }, t('record.erased_hint')),
  );
}
