// A member state's page (`/countries/{code}`): its reform profiles over time, what changed in the
// latest since the one before (reforms whose status moved; indicators that moved, each side with
// its value and year), and its practices and events. Every profile links to its record page,
// where the browser checks its signature.

import { h, replace, getJson, errorBox, dataTable, short, ApiError } from './dom.js';
import { t, pickText, fmtLocal, fmtDate, getLang } from './i18n.js';
import { getMembers, getVocabulary, indicatorName, indicatorOf } from './data.js';
import { changeDirection, changeText, reformChangeText, unitLabel } from './profile.js';

function obj(x) {
  return x && typeof x === 'object' && !Array.isArray(x) ? x : null;
}

function list(x) {
  return Array.isArray(x) ? x.filter(obj) : [];
}

export async function mount(main, state, ctx) {
  const code = String(ctx.params[0] || '').toUpperCase();
  const heading = h('h1', {}, code);
  main.append(heading, h('p', { class: 'loading' }, t('loading')));
  let answer;
  try {
    [answer] = await Promise.all([
      getJson(`/api/v1/countries/${encodeURIComponent(code)}`),
      getMembers().catch(() => null),
      getVocabulary().catch(() => null),
    ]);
  } catch (e) {
    if (!ctx.alive()) return;
    document.title = `${t('error.title')} · hubnet`;
    const unknown = e instanceof ApiError && e.status === 404;
    replace(main, h('h1', {}, unknown ? t('page.not_found') : t('error.title')),
      errorBox(unknown ? `${t('country.unknown')} (${code})` : e.message));
    return;
  }
  if (!ctx.alive()) return;
  const name = pickText(answer.name);
  const title = name ? name.text : code;
  document.title = `${title} · hubnet`;
  replace(heading, name ? h('span', { lang: name.lang }, name.text) : code, ' ', h('span', { class: 'muted' }, `(${code})`));
  main.querySelector('.loading')?.remove();
  main.append(
    h('p', { class: 'country-links' },
      h('a', { href: `/compare?country=${encodeURIComponent(code)}`, 'data-testid': 'country-compare' }, t('country.compare')),
      ' · ',
      h('a', { href: `/?country=${encodeURIComponent(code)}` }, t('country.search_all', { country: title })),
      ' · ',
      h('a', { href: `/feeds/reform-profiles.atom?country=${encodeURIComponent(code)}&display_lang=${getLang()}` },
        t('export.atom_profiles'))),
    profilesSection(list(answer.profiles), answer.profiles_total, code),
    changesSection(answer),
    recordsSection(answer, code),
  );
}

/** A profile's head (`in_force` of each profile, or `latest`/`previous`). */
function headOf(p) {
  return obj(p?.in_force) || null;
}

function profilesSection(profiles, profilesTotal, code) {
  const total = Number.isFinite(profilesTotal) ? profilesTotal : profiles.length;
  const latest = profiles.length ? headOf(profiles[profiles.length - 1]) : null;
  const rows = profiles.map((p) => {
    const head = headOf(p) || { id: p.id, as_of: p.body?.as_of, title: p.body?.title };
    const title = pickText(head.title);
    const badges = [
      head.sample === true ? h('span', { class: 'badge warn' }, t('badge.sample')) : null,
      head.amended === true ? h('span', { class: 'badge info' }, t('badge.amended')) : null,
      latest && head.id === latest.id ? h('span', { class: 'badge ok' }, t('country.latest')) : null,
    ].filter(Boolean);
    return {
      attrs: { 'data-id': head.id, 'data-testid': 'country-profile' },
      cells: [
        head.as_of ? fmtLocal(head.as_of) : '?',
        [h('a', { href: `/records/${head.id}`, lang: title?.lang }, title ? title.text : short(head.id, 16)),
          badges.length ? [' ', badges.map((b, i) => [i ? ' ' : null, b])] : null],
      ],
    };
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'profiles-heading', 'data-testid': 'country-profiles' },
    h('h2', { id: 'profiles-heading' }, t('country.profiles')),
    rows.length
      ? dataTable([t('profile.as_of'), t('kind.reform_profile')], rows, { block: true })
      : h('p', { class: 'empty' }, t('country.no_profiles')),
    total > profiles.length
      ? h('p', { class: 'hint', 'data-testid': 'country-profiles-more' },
        t('country.profiles_more', { n: profiles.length, total }), ' ',
        h('a', { href: `/?country=${encodeURIComponent(code)}&kind=reform_profile` },
          t('country.search_all', { country: code })))
      : null);
}

function changesSection(answer) {
  const latest = obj(answer.latest);
  const previous = obj(answer.previous);
  const changes = obj(answer.changes);
  const body = [];
  if (!changes || !latest || !previous) {
    body.push(h('p', { class: 'empty' }, latest ? t('country.changes_one') : t('country.no_profiles')));
  } else {
    body.push(h('p', { class: 'hint', 'data-testid': 'changes-span' },
      t('country.changes_span', { from: fmtLocal(previous.as_of), to: fmtLocal(latest.as_of) }), ' ',
      h('a', { href: `/records/${previous.id}` }, short(previous.id, 8)), ' → ',
      h('a', { href: `/records/${latest.id}` }, short(latest.id, 8))));
    const reforms = list(changes.reforms);
    const indicators = list(changes.indicators);
    if (reforms.length === 0 && indicators.length === 0) body.push(h('p', { class: 'empty' }, t('country.changes_none')));
    if (reforms.length) {
      body.push(
        h('h3', {}, t('country.reform_changes')),
        h('ul', { class: 'changes-list', 'data-testid': 'reform-changes' }, reforms.map((r) => {
          const title = pickText(r.title);
          return h('li', { 'data-from': r.from ?? '', 'data-to': r.to ?? '' },
            title ? h('span', { lang: title.lang }, title.text) : '?', ': ',
            h('strong', {}, reformChangeText(r)));
        })),
      );
    }
    if (indicators.length) {
      const rows = indicators.map((x) => {
        const entry = indicatorOf(x.code);
        const unit = entry?.unit || '';
        const dir = entry ? changeDirection(x, entry.higher_is_better) : null;
        return {
          attrs: { 'data-indicator': x.code, 'data-testid': 'indicator-change' },
          cells: [
            [h('span', {}, indicatorName(x.code)),
              unit ? [' ', h('span', { class: 'muted small' }, `(${unitLabel(unit)})`)] : null],
            h('span', { class: 'change' }, changeText(x, unit)),
            dir ? h('span', { class: `direction ${dir}` }, t(`country.${dir}`)) : h('span', { class: 'muted' }, '—'),
          ],
        };
      });
      body.push(
        h('h3', {}, t('country.indicator_changes')),
        dataTable([t('profile.indicator'), t('country.change'), t('country.direction')], rows, { block: true }),
      );
    }
  }
  return h('section', { class: 'panel', id: 'changes', 'aria-labelledby': 'changes-heading', 'data-testid': 'changes' },
    h('h2', { id: 'changes-heading' }, t('country.changes')), body);
}

function recordsSection(answer, code) {
  const records = list(answer.records);
  const total = Number.isFinite(answer.records_total) ? answer.records_total : records.length;
  return h('section', { class: 'panel', 'aria-labelledby': 'records-heading', 'data-testid': 'country-records' },
    h('h2', { id: 'records-heading' }, t('country.records')),
    records.length
      ? h('ul', { class: 'country-records' }, records.map((r) => {
        const title = pickText(r.title);
        const when = r.kind === 'event' && r.start
          ? t('results.starts', { date: fmtDate(r.start) })
          : t('results.published', { date: fmtDate(r.created_at) });
        return h('li', { 'data-id': r.id, 'data-kind': r.kind },
          h('span', { class: `badge kind-${r.kind}` }, t(`kind.${r.kind}`)), ' ',
          h('a', { href: `/records/${r.id}`, lang: title?.lang }, title ? title.text : short(r.id, 16)), ' ',
          h('span', { class: 'muted' }, `· ${when}`));
      }))
      : h('p', { class: 'empty' }, t('country.no_records')),
    total > records.length
      ? h('p', { class: 'hint' }, t('country.records_more', { n: records.length, total }), ' ',
        h('a', { href: `/?country=${encodeURIComponent(code)}` }, t('country.search_all', { country: code })))
      : null,
  );
}
