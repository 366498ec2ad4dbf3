// The node's network facts the pages share: the charter's members, its vocabulary (topics,
// reform areas, the indicator catalogue) and the node's status (for names and labels only),
// fetched once and kept briefly, with a fallback for nodes that do not have `/api/v1/members` yet;
// and the trust the browser derives itself from the node's signed charter
// and decisions (trust.js), with the network id pinned in this browser.

import { getJson } from './dom.js';
import { pickText, regionName, topicName } from './i18n.js';
import { establishTrust, pinCheck, writePin } from './trust.js';

const TTL_MS = 15000;
let membersCache = null;
let statusCache = null;
let vocabularyCache = null;

function cached(slot, load) {
  const now = Date.now();
  if (slot.value && now - slot.at < TTL_MS) return slot.value;
  slot.at = now;
  slot.value = load().catch((e) => {
    slot.value = null;
    throw e;
  });
  return slot.value;
}

const statusSlot = { value: null, at: 0 };
const membersSlot = { value: null, at: 0 };
const vocabularySlot = { value: null, at: 0 };

/** `GET /api/v1/status` (cached for a few seconds). */
export function getStatus({ fresh = false } = {}) {
  if (fresh) statusSlot.at = 0;
  return cached(statusSlot, () => getJson('/api/v1/status')).then((s) => (statusCache = s));
}

/**
 * `GET /api/v1/members` (cached). If the node has no such endpoint, a stand-in built from the
 * status (`network_id`, and `heads` naming each author's member code), marked `partial: true`.
 */
export function getMembers() {
  return cached(membersSlot, async () => {
    try {
      return await getJson('/api/v1/members');
    } catch (e) {
      if (e.status !== 404 && e.status !== 405) throw e;
      const s = await getStatus();
      const members = (Array.isArray(s.heads) ? s.heads : [])
        .filter((x) => x && x.member && x.author)
        .map((x) => ({
          code: x.member,
          name: null,
          publishing_key: x.author,
          head: { seq: x.seq, id: x.id },
          flagged: Array.isArray(s.flagged) && s.flagged.includes(x.member),
        }));
      return { network_id: s.network_id, name: s.network_name, members, partial: true };
    }
  }).then((m) => (membersCache = m));
}

/**
 * `GET /api/v1/vocabulary` (cached): `{topics, reform_areas: [{slug, name}], indicators: [{code,
 * name, unit, higher_is_better, reform_area}]}`, for names only. A node without the endpoint
 * gives an empty vocabulary: names fall back to the codes.
 */
export function getVocabulary() {
  return cached(vocabularySlot, async () => {
    try {
      return await getJson('/api/v1/vocabulary');
    } catch (e) {
      if (e.status !== 404 && e.status !== 405) throw e;
      return { topics: [], reform_areas: [], indicators: [] };
    }
  }).then((v) => (vocabularyCache = v));
}

/** The last vocabulary loaded, if any. */
export function knownVocabulary() {
  return vocabularyCache;
}

function list(v, key) {
  return Array.isArray(v?.[key]) ? v[key].filter((x) => x && typeof x === 'object') : [];
}

/** A reform area's (or topic's) name in the interface language; the slug if unknown. */
export function areaName(slug, vocabulary = vocabularyCache) {
  const term = [...list(vocabulary, 'reform_areas'), ...list(vocabulary, 'topics')].find((x) => x.slug === slug);
  return pickText(term?.name)?.text ?? topicName(slug);
}

/** An indicator of the catalogue by code, or null. */
export function indicatorOf(code, vocabulary = vocabularyCache) {
  return list(vocabulary, 'indicators').find((x) => x.code === code) ?? null;
}

/** An indicator's name in the interface language; the code if unknown. */
export function indicatorName(code, vocabulary = vocabularyCache) {
  return pickText(indicatorOf(code, vocabulary)?.name)?.text ?? String(code ?? '');
}

/** The last members document loaded, if any (for labels without waiting). */
export function knownMembers() {
  return membersCache;
}

/** The last status loaded, if any. */
export function knownStatus() {
  return statusCache;
}

/** A member's or country's display name in the interface language, or null. */
export function placeName(code) {
  if (!code) return null;
  const m = membersCache?.members?.find((x) => x && x.code === code);
  const picked = m ? pickText(m.name) : null;
  return picked?.text ?? regionName(code);
}

/** "KZ · Kazakhstan" for a code. */
export function codeLabel(code) {
  const name = placeName(code);
  return name && name !== code ? `${code} · ${name}` : String(code ?? '');
}

const trustSlot = { value: null, at: 0 };

/**
 * The trust derived in this browser from the node's signed charter and decisions
 * (`GET /api/v1/bundle?records=false`, checked by trust.js; cached for a few seconds). Never
 * rejects: a failure to load is a failed `bundle` check.
 */
export function getTrust({ fresh = false } = {}) {
  if (fresh) trustSlot.at = 0;
  return cached(trustSlot, async () => {
    try {
      const r = await fetch('/api/v1/bundle?records=false', { headers: { accept: 'application/x-protobuf' } });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return await establishTrust(new Uint8Array(await r.arrayBuffer()));
    } catch (e) {
      // A bundle that did not load, or that establishTrust could not even read.
      return {
        ok: false,
        checks: [{ key: 'bundle', ok: false, args: { detail: String(e?.message ?? e) } }],
        networkId: null,
        state: null,
      };
    }
  });
}

function pinStorage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/**
 * The pin check for `trust` (see trust.js). The record page, which shows the check, pins a
 * trusted network id on first use; other callers (the banner) only read the pin.
 */
export function checkPin(trust, { pinFirst = false } = {}) {
  return pinCheck(trust, pinStorage(), { pinFirst });
}

/** Pins `networkId` (hex), or forgets the pin with null; false if the browser refused. */
export function setPin(networkId) {
  const storage = pinStorage();
  return storage !== null && writePin(storage, networkId);
}
