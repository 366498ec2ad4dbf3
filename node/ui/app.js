// The hubnet web UI: one page, routed with the History API. Views live in their own modules;
// this file owns the shell (navigation, language switch, fork and pin banners) and the router.

import { getLang, LANGS, setLang, t } from './i18n.js';
import { h, replace } from './dom.js';
import { getMembers, getStatus, getTrust, checkPin } from './data.js';
import * as searchView from './search.js';
import * as recordView from './record.js';
import * as calendarView from './calendar.js';
import * as networkView from './network.js';
import * as auditView from './audit.js';
import * as compareView from './compare.js';
import * as countryView from './country.js';
import * as directoryView from './directory.js';

const ROUTES = [
  { re: /^\/$/, view: searchView, nav: '/' },
  { re: /^\/records\/([^/]+)\/?$/, view: recordView, nav: null },
  { re: /^\/calendar\/?$/, view: calendarView, nav: '/calendar' },
  { re: /^\/compare\/?$/, view: compareView, nav: '/compare' },
  { re: /^\/countries\/([^/]+)\/?$/, view: countryView, nav: null },
  { re: /^\/directory\/?$/, view: directoryView, nav: '/directory' },
  { re: /^\/(network|members)\/?$/, view: networkView, nav: '/network' },
  { re: /^\/audit\/?$/, view: auditView, nav: '/audit' },
];

const main = document.getElementById('main');
let active = null; // {view, state}
let generation = 0;

function match(pathname) {
  for (const r of ROUTES) {
    const m = r.re.exec(pathname);
    if (m) return { route: r, params: m.slice(1).map((x) => decodeURIComponent(x)) };
  }
  return null;
}

/** Whether a same-origin path is a page of this app (not the API, feeds or files). */
function isAppPath(pathname) {
  return match(pathname) !== null;
}

/** Goes to `url` (a path with query) without reloading. */
export function navigate(url, { replace: replaceEntry = false, focus = true } = {}) {
  if (replaceEntry) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render({ focus }).catch(reportFatal);
}

function reportFatal(e) {
  console.error(e);
  replace(main, h('div', { class: 'error', role: 'alert' }, t('error.title'), ': ', String(e?.message ?? e)));
}

async function render({ focus = false, relang = false } = {}) {
  const gen = ++generation;
  // Assistive technology (and the accessibility test) learn when the page has settled.
  main.setAttribute('aria-busy', 'true');
  try {
    await renderPage(gen, { focus, relang });
  } finally {
    if (gen === generation) main.removeAttribute('aria-busy');
  }
}

async function renderPage(gen, { focus, relang }) {
  const found = match(location.pathname);
  updateNav(found?.route.nav ?? null);
  refreshForkBanner();
  refreshPinBanner();
  const ctx = {
    params: found ? found.params : [],
    query: new URLSearchParams(location.search),
    path: location.pathname,
    navigate,
    alive: () => gen === generation,
  };
  if (!found) {
    active = null;
    document.title = `${t('page.not_found')} · hubnet`;
    replace(main, h('h1', { tabindex: '-1' }, t('page.not_found')));
    return;
  }
  const view = found.route.view;
  let fresh = false;
  if (!relang && active && active.view === view && view.update) {
    await view.update(active.state, ctx);
  } else {
    const state = {};
    active = { view, state };
    fresh = true;
    main.replaceChildren();
    const done = view.mount(main, state, ctx);
    // Focus moves to the new page's heading as soon as it exists (views add it first).
    if (focus) focusHeading();
    await done;
  }
  const lost = document.activeElement === main || !main.contains(document.activeElement);
  if (focus && fresh && ctx.alive() && lost) focusHeading();
}

function focusHeading() {
  const target = main.querySelector('h1') || main;
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function updateNav(current) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.getAttribute('href') === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Static strings of the shell (elements with data-i18n). */
function translateShell() {
  document.documentElement.lang = getLang();
  for (const el of document.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.getAttribute('data-i18n'));
  }
  for (const el of document.querySelectorAll('[data-i18n-aria]')) {
    el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria')));
  }
}

function setupLangSwitch() {
  const select = document.getElementById('lang-switch');
  replace(select, LANGS.map(([code, name]) => h('option', { value: code, lang: code }, name)));
  select.value = getLang();
  select.addEventListener('change', () => {
    setLang(select.value);
    translateShell();
    render({ relang: true }).catch(reportFatal);
  });
}

// Clicks on links to the app's own pages stay in the page; everything else (API, feeds,
// downloads, other sites, modified clicks) is left to the browser.
document.addEventListener('click', (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) {
    return;
  }
  const a = ev.target instanceof Element ? ev.target.closest('a[href]') : null;
  if (!a || a.hasAttribute('download') || (a.target && a.target !== '_self')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !isAppPath(url.pathname)) return;
  ev.preventDefault();
  if (url.pathname === location.pathname && url.search === location.search) {
    if (url.hash) location.hash = url.hash;
    return;
  }
  navigate(url.pathname + url.search + url.hash);
});

window.addEventListener('popstate', () => {
  render().catch(reportFatal);
});

// The fork banner: shown on every page while the node's status flags a member.
let bannerChecked = 0;
function refreshForkBanner(force = false) {
  const now = Date.now();
  if (!force && now - bannerChecked < 10000) return;
  bannerChecked = now;
  getStatus({ fresh: true })
    .then(showForkBanner)
    .catch(() => {
      // No status, no banner; the pages report their own errors.
    });
}

let lastFlagged = [];
function showForkBanner(status) {
  const flagged = Array.isArray(status?.flagged)
    ? status.flagged.filter((x) => typeof x === 'string' && x)
    : [];
  lastFlagged = flagged;
  const slot = document.getElementById('banner-slot');
  if (flagged.length === 0) {
    slot.replaceChildren();
    return;
  }
  replace(
    slot,
    h(
      'div',
      { class: 'fork-banner', role: 'alert', 'data-testid': 'fork-banner' },
      h('strong', {}, '⚠ '),
      t('fork.banner', { members: flagged.join(', ') }),
      ' ',
      h('a', { href: '/network' }, t('fork.details')),
    ),
  );
}

// The pin banner: shown on every page while the node's charter fails the browser's own checks,
// or its network id is not the one pinned in this browser (trust.js).
function refreshPinBanner() {
  getTrust().then(showPinBanner, () => {});
}

function showPinBanner(trust) {
  const slot = document.getElementById('pin-banner-slot');
  const pin = checkPin(trust);
  const short = (x) => (typeof x === 'string' ? `${x.slice(0, 16)}…` : '');
  let text = null;
  let state = null;
  if (!pin.ok) {
    state = 'mismatch';
    text = t('pin.banner.mismatch', { id: short(pin.args.id), pinned: short(pin.args.pinned) });
  } else if (!trust.ok) {
    state = 'untrusted';
    const bad = trust.checks.find((c) => !c.ok);
    text = t('pin.banner.untrusted', { why: bad ? recordView.checkText(bad) : '' });
  }
  if (text === null) {
    slot.replaceChildren();
    return;
  }
  replace(
    slot,
    h('div', { class: 'fork-banner pin-banner', role: 'alert', 'data-testid': 'pin-banner', 'data-state': state },
      h('strong', {}, '⚠ '), text),
  );
}

function start() {
  setLang(getLang());
  setupLangSwitch();
  translateShell();
  // Members are fetched early: pages use their names for labels.
  getMembers().catch(() => {});
  render().catch(reportFatal);
  setInterval(() => refreshForkBanner(true), 60000);
  document.getElementById('lang-switch').addEventListener('change', () => {
    if (lastFlagged.length) showForkBanner({ flagged: lastFlagged });
    refreshPinBanner();
  });
}

start();
