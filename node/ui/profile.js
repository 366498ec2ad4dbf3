// Reform profiles for people: numbers with their unit and ALWAYS their year, reform statuses,
// missing values said as missing (never blank, never 0), the changes between two profiles, the
// compare page's state in its URL, and the plain-text blocks of a Markdown list. Pure functions
// of their arguments and the interface language (tests/ui/profile.test.js runs them in Node.js).

import { t, fmtNumber, pickText } from './i18n.js';

/** The fewest and the most countries a comparison takes (as the API: `crate::compare`). */
export const MIN_COUNTRIES = 2;
export const MAX_COUNTRIES = 4;

/** A unit's label ("%", "% of GDP", "days"); an unknown unit is shown as its slug. */
export function unitLabel(unit) {
  if (!unit) return '';
  const key = `unit.${unit}`;
  const label = t(key);
  return label === key ? String(unit) : label;
}

/** A value with its unit: "71.5 %", "41 days". */
export function fmtValue(value, unit) {
  const label = unitLabel(unit);
  return label ? `${fmtNumber(value)} ${label}` : fmtNumber(value);
}

/** A value, its unit and its year: "71.5 % · 2025" (the year is never left out). */
export function fmtValueYear(value, year, unit) {
  return `${fmtValue(value, unit)} · ${fmtYear(year)}`;
}

/** A measure `{value, year}` as "60 % (2024)". */
export function fmtMeasure(m, unit) {
  return `${fmtValue(m.value, unit)} (${fmtYear(m.year)})`;
}

/** A year as written ("2025", no digit grouping); "?" when there is none. */
export function fmtYear(year) {
  return Number.isInteger(year) && year > 0 ? String(year) : '?';
}

/** Whether `m` is a measure with a number (a missing one is never taken for 0). */
export function isMeasure(m) {
  return !!m && typeof m === 'object' && typeof m.value === 'number' && Number.isFinite(m.value);
}

/** A reform status's name ("In implementation"). */
export function statusName(status) {
  return status ? t(`reform.status.${status}`) : t('reform.status.unknown');
}

/** "higher is better" or "lower is better", with an arrow (the words carry the meaning). */
export function directionText(higherIsBetter) {
  return higherIsBetter ? `↑ ${t('compare.higher_better')}` : `↓ ${t('compare.lower_better')}`;
}

/**
 * What one cell of the comparison says: `{status, text, reason}`. A value is "71.5 % · 2025";
 * a missing one is "Not available" (with the profile's reason, in the reader's language), "Not
 * reported" or "No profile"; anything else "Unknown". Never an empty text, never a made-up 0.
 */
export function cellText(cell, unit) {
  const status = typeof cell?.status === 'string' ? cell.status : 'unknown';
  switch (status) {
    case 'value':
      if (isMeasure(cell)) return { status, text: fmtValueYear(cell.value, cell.year, cell.unit || unit), reason: null };
      return { status: 'unknown', text: t('cell.unknown'), reason: null };
    case 'not_available':
      return { status, text: t('cell.not_available'), reason: pickText(cell.reason) };
    case 'not_reported':
      return { status, text: t('cell.not_reported'), reason: null };
    case 'no_profile':
      return { status, text: t('cell.no_profile'), reason: null };
    default:
      return { status: 'unknown', text: t('cell.unknown'), reason: null };
  }
}

/**
 * One side of an indicator's change (`{value, year}`, `{not_available: {...}}` or null) as
 * text: "60 % (2024)", "not available: why" or "not reported".
 */
export function stateText(state, unit) {
  if (isMeasure(state)) return fmtMeasure(state, unit);
  if (state && typeof state === 'object' && 'not_available' in state) {
    const why = pickText(state.not_available);
    return why ? `${t('profile.not_available_why', { reason: why.text })}` : t('cell.not_available').toLocaleLowerCase();
  }
  return t('country.not_reported');
}

/** "60 % (2024) → 71.5 % (2025)". */
export function changeText(change, unit) {
  return `${stateText(change?.from ?? null, unit)} → ${stateText(change?.to ?? null, unit)}`;
}

/**
 * Whether an indicator's move is for the better: 'better', 'worse', 'same', or null when the
 * two sides are not both values.
 */
export function changeDirection(change, higherIsBetter) {
  const a = change?.from;
  const b = change?.to;
  if (!isMeasure(a) || !isMeasure(b)) return null;
  if (a.value === b.value) return 'same';
  return (b.value > a.value) === !!higherIsBetter ? 'better' : 'worse';
}

/** A reform's status change as text: "Adopted → In implementation", "new: …", "no longer …". */
export function reformChangeText(change) {
  if (!change?.from) return t('country.reform_new', { status: statusName(change?.to) });
  if (!change.to) return t('country.reform_gone', { status: statusName(change.from) });
  return `${statusName(change.from)} → ${statusName(change.to)}`;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The compare page's state from its URL query, as the API takes it: `country` (repeated, in
 * order, upper case, each once), `area` (repeated, each once), `as_of` (a date, or '').
 */
export function readCompare(query) {
  const uniq = (xs) => [...new Set(xs.map((x) => x.trim()).filter(Boolean))];
  const asOf = (query.get('as_of') || '').trim();
  return {
    countries: uniq(query.getAll('country').map((x) => x.toUpperCase())),
    areas: uniq(query.getAll('area')),
    as_of: DATE.test(asOf) ? asOf : '',
  };
}

/** The query string of a compare state: `country=KZ&country=KG&area=…&as_of=…`. */
export function compareQuery(state) {
  const p = new URLSearchParams();
  for (const c of state.countries || []) p.append('country', c);
  for (const a of state.areas || []) p.append('area', a);
  if (state.as_of) p.set('as_of', state.as_of);
  return p.toString();
}

/** Why the countries chosen cannot be compared (`{key, n}` for i18n), or null if they can. */
export function countProblem(countries) {
  const n = countries.length;
  if (n < MIN_COUNTRIES) return { key: 'compare.too_few', n };
  if (n > MAX_COUNTRIES) return { key: 'compare.too_many', n };
  return null;
}

/**
 * Markdown as plain blocks, for texts the node does not render: `[{type: 'p', text}]`,
 * `{type: 'ul'|'ol', items}` for lists, `{type: 'h', text}` for headings. Markup stays text
 * (emphasis markers are dropped); nothing here is ever HTML.
 */
export function textBlocks(markdown) {
  const out = [];
  const clean = (s) => s.replace(/\*\*|__/g, '').trim();
  for (const para of String(markdown ?? '').split(/\n\s*\n/)) {
    const lines = para.split('\n').map((l) => l.trim()).filter(Boolean);
    if (lines.length === 0) continue;
    let list = null;
    let text = [];
    const flush = () => {
      if (text.length) out.push({ type: 'p', text: clean(text.join(' ')) });
      text = [];
    };
    for (const line of lines) {
      const bullet = /^[-*+]\s+(.*)$/.exec(line);
      const numbered = /^\d+[.)]\s+(.*)$/.exec(line);
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        flush();
        const type = bullet ? 'ul' : 'ol';
        if (!list || list.type !== type) {
          list = { type, items: [] };
          out.push(list);
        }
        list.items.push(clean((bullet || numbered)[1]));
      } else if (heading) {
        flush();
        list = null;
        out.push({ type: 'h', text: clean(heading[1]) });
      } else if (list && list.items.length) {
        // A continuation line of the last item.
        list.items[list.items.length - 1] += ` ${clean(line)}`;
      } else {
        text.push(line);
      }
    }
    flush();
  }
  return out;
}
