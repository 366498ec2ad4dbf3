// DOM and HTTP helpers. Every string goes into the page as text (`textContent`); the one place
// that inserts HTML is `insertSanitisedHtml`, used only for the `html` field of a record.

import { t } from './i18n.js';

/**
 * Creates an element. `attrs`: `class`, `text`, `on<event>` functions, `hidden`/boolean
 * attributes as true/false, anything else with setAttribute (never `style`, never `on*`
 * strings). Children: nodes, strings (as text), arrays, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'style' || k.startsWith('on')) throw new Error(`refusing attribute ${k}`);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** An http(s) URL from a record, or null (javascript:, data:, relative … are refused). */
export function safeUrl(text) {
  if (typeof text !== 'string') return null;
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** A link to another site: rel="noopener noreferrer nofollow"; plain text if not http(s). */
export function extLink(url, label) {
  const safe = safeUrl(url);
  if (!safe) return h('span', { class: 'url' }, label ?? String(url ?? ''));
  return h('a', { href: safe, rel: 'noopener noreferrer nofollow', class: 'ext' }, label ?? safe);
}

/** Tags never kept from record HTML, even though the node sanitises it already. */
const DROP = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'OBJECT', 'EMBED', 'FORM', 'INPUT', 'BUTTON',
  'TEXTAREA', 'SELECT', 'LINK', 'META', 'BASE', 'FRAME', 'FRAMESET', 'SVG', 'MATH', 'TEMPLATE']);

/**
 * Inserts the node's sanitised HTML of a record body into `el`. Parsed in an inert template
 * (nothing runs or loads while parsing), then cleaned again: no scripts or active elements, no
 * event handlers or inline styles, links only http(s)/mailto/fragment with safe rel, no images
 * from outside this node (the CSP would block them anyway).
 */
export function insertSanitisedHtml(el, html) {
  const tpl = document.createElement('template');
  tpl.innerHTML = typeof html === 'string' ? html : '';
  const walker = document.createTreeWalker(tpl.content, NodeFilter.SHOW_ELEMENT);
  const doomed = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (DROP.has(n.tagName.toUpperCase())) {
      doomed.push(n);
      continue;
    }
    for (const a of [...n.attributes]) {
      const name = a.name.toLowerCase();
      if (name.startsWith('on') || name === 'style' || name === 'srcset' || name === 'formaction') {
        n.removeAttribute(a.name);
      }
    }
    if (n.tagName === 'A') {
      const href = n.getAttribute('href');
      if (href !== null && !/^(https?:|mailto:|#)/i.test(href.trim())) n.removeAttribute('href');
      n.setAttribute('rel', 'noopener noreferrer nofollow');
      n.removeAttribute('target');
    }
    if (n.tagName === 'IMG') {
      const src = n.getAttribute('src') || '';
      if (!/^\/(?!\/)/.test(src)) doomed.push(n);
    }
  }
  for (const n of doomed) n.remove();
  el.replaceChildren(tpl.content);
}

/** An error with the node's problem+json `detail`. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

/** GETs JSON from the node; errors carry the problem's `detail`. */
export async function getJson(path, { signal } = {}) {
  let res;
  try {
    res = await fetch(path, { headers: { Accept: 'application/json' }, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, t('error.network', { detail: e.message }));
  }
  const type = res.headers.get('content-type') || '';
  let body = null;
  if (type.includes('json')) {
    try {
      body = await res.json();
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    const detail = body && typeof body.detail === 'string' ? body.detail : res.statusText;
    throw new ApiError(res.status, t('error.http', { status: res.status, detail }));
  }
  if (body === null) throw new ApiError(res.status, t('error.http', { status: res.status, detail: 'not JSON' }));
  return body;
}

/** A loud error box with the message (as text). */
export function errorBox(message) {
  return h('div', { class: 'error', role: 'alert' }, h('strong', {}, t('error.title')), ' ', message);
}

/** `abc…` for long hex strings. */
export function short(hexText, n = 8) {
  const s = String(hexText ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** A `<span lang=..>` with a localized text, or null. */
export function langText(tag, picked, attrs = {}) {
  if (!picked) return null;
  return h(tag, { ...attrs, lang: picked.lang }, picked.text);
}

/**
 * A table that turns into labelled cards on narrow screens (CSS, via data-label). `rows` are
 * `{ attrs, cells }`; with `block`, each cell's content is wrapped in one block, so that its parts
 * stay together in the card's value column.
 */
export function dataTable(headers, rows, { block = false } = {}) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data' },
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h('tr', r.attrs, r.cells.map((c, i) => h('td', { 'data-label': headers[i] }, block ? h('div', {}, c) : c))),
        ),
      ),
    ),
  );
}

