// The node's network facts the pages share: the charter's members and the node's status, fetched
// once and kept briefly, with a fallback for nodes that do not have `/api/v1/members` yet.

import { getJson } from './dom.js';
import { pickText, regionName } from './i18n.js';

const TTL_MS = 15000;
let membersCache = null;
let statusCache = null;

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
