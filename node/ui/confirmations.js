// Where a joint programme stands with its participants, derived in the browser from the signed
// records it checked itself: the same rule as `protocol/src/confirmations.rs` (docs/PROTOCOL.md
// §2.2), so that the page never has to take the node's `state` on trust. Pure: no DOM, no fetch.
//
// The rule, for the version in force (the author's version of greatest seq, then record id):
// - the lead, who signs every version, stands behind it;
// - each other member it lists stands at its latest act on the programme (a confirmation, or the
//   retraction of one, ordered by created_at, a retraction after a confirmation of the same
//   millisecond, then by record id; a retracted confirmation counts only as its retraction, at
//   the later of the two times): after a retraction it has withdrawn; after a confirmation of a
//   version whose terms (participants and budget) are those in force it has confirmed; after one
//   of a version with other terms it must reconfirm; with none it is awaiting;
// - the programme is confirmed when every member participant stands behind it, else proposed;
//   retracted when its author retracted it.

/** The standings, as the API names them. */
export const STANDINGS = ['lead', 'confirmed', 'reconfirm', 'withdrawn', 'awaiting'];

function big(x) {
  return typeof x === 'bigint' ? x : BigInt(x);
}

/** Compares two keys `[time, rank, id]` (time BigInt, rank number, id lowercase hex). */
function compareKeys(a, b) {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  if (a[2] !== b[2]) return a[2] < b[2] ? -1 : 1;
  return 0;
}

/**
 * Derives a programme's state from `facts`:
 * `{author, retracted, versions: [{id, seq, createdAt, terms, members}], confirmations: [{id,
 * member, createdAt, version, retracted: null | {id, createdAt}}]}` (ids lowercase hex, seq and
 * times numbers or BigInt, `terms` a string or null for an erased version, `members` the member
 * codes it lists, in order). Returns null when no version is held, else `{state, inForce,
 * participants: [{member, standing, confirmation, version, retraction}]}` (`state`: `proposed`,
 * `confirmed` or `retracted`; the record ids behind a standing, null where it has none). Any order
 * of the same facts derives the same state.
 */
export function deriveProgramme(facts) {
  const versions = Array.isArray(facts?.versions) ? facts.versions : [];
  if (versions.length === 0) return null;
  let inForce = versions[0];
  for (const v of versions.slice(1)) {
    const a = big(v.seq);
    const b = big(inForce.seq);
    if (a > b || (a === b && v.id > inForce.id)) inForce = v;
  }
  const terms = new Map(versions.map((v) => [v.id, v.terms ?? null]));
  const latest = new Map();
  for (const c of Array.isArray(facts.confirmations) ? facts.confirmations : []) {
    let key;
    let standing;
    if (c.retracted) {
      const at = big(c.retracted.createdAt);
      const made = big(c.createdAt);
      key = [at > made ? at : made, 1, c.retracted.id];
      standing = { standing: 'withdrawn', confirmation: c.id, version: null, retraction: c.retracted.id };
    } else {
      const same = inForce.terms !== null && inForce.terms !== undefined && terms.has(c.version) &&
        terms.get(c.version) === inForce.terms;
      key = [big(c.createdAt), 0, c.id];
      standing = { standing: same ? 'confirmed' : 'reconfirm', confirmation: c.id, version: c.version, retraction: null };
    }
    const held = latest.get(c.member);
    if (!held || compareKeys(held.key, key) < 0) latest.set(c.member, { key, standing });
  }
  const seen = new Set();
  const participants = [];
  for (const m of Array.isArray(inForce.members) ? inForce.members : []) {
    if (seen.has(m)) continue;
    seen.add(m);
    const none = { standing: 'awaiting', confirmation: null, version: null, retraction: null };
    const s = m === facts.author
      ? { standing: 'lead', confirmation: null, version: null, retraction: null }
      : latest.get(m)?.standing ?? none;
    participants.push({ member: m, ...s });
  }
  const behind = (p) => p.standing === 'lead' || p.standing === 'confirmed';
  let state = 'proposed';
  if (facts.retracted) state = 'retracted';
  else if (participants.every(behind)) state = 'confirmed';
  return { state, inForce: inForce.id, participants };
}
