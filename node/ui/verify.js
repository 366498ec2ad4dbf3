// The browser's own check of a signed record (docs/PROTOCOL.md §1), trusting nothing the node
// decoded: the id is recomputed from the header bytes, the header and body are decoded here, the
// author and seq are judged against the governance state the browser derived itself from the
// committee-signed charter and decisions (trust.js), and the Ed25519 signature is checked under
// the signature rule (trust.js `ed25519Verdict`: the key, R and s checked here, the equation by
// WebCrypto). The result is a list of checks; the page shows them and an overall verdict.
//
// One record at a time: the record page checks the record, then its amendment and its retraction,
// each on its own, and the compare page checks each column's profile (and its amendment) the same
// way, then holds every cell it shows against the decoded profile (`compareColumn`). There is no
// batch verification anywhere in the UI; search results, the country page and the audit view show
// what the node says and link to record pages, which check; trust.js checks the committee's
// signatures on the charter and decisions one by one too. A verdict therefore never depends on
// other signatures.

import { decodeBody, decodeHeader, decodeSigned, fromBase64, hex, ProtoError } from './proto.js';
import { ed25519Verdict, judgeKey } from './trust.js';

const DOMAIN = new TextEncoder().encode('hubnet-record-v1');

/** Why WebCrypto cannot be used here, or null when it can (SHA-256 at least). */
export function cryptoUnavailable() {
  if (typeof crypto === 'undefined' || !crypto.subtle) {
    return typeof isSecureContext !== 'undefined' && !isSecureContext ? 'insecure' : 'no-webcrypto';
  }
  return null;
}

let ed25519Support = null;

/** Whether this browser's WebCrypto knows Ed25519 (checked once, with a known test key). */
export async function ed25519Supported() {
  if (ed25519Support !== null) return ed25519Support;
  if (cryptoUnavailable()) return (ed25519Support = false);
  try {
    // RFC 8032 test 1: public key of the empty-message vector.
    const key = hexToBytes('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
    ed25519Support = true;
  } catch {
    ed25519Support = false;
  }
  return ed25519Support;
}

/** Hex (either case) to bytes, or null if it is not even-length hex. */
export function hexToBytes(text) {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    return null;
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

function sameHex(a, b) {
  return typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
}

/**
 * Checks one record JSON (`{id, signed: {header, body, signature}, ...}`) against `trust`, the
 * result of trust.js's `establishTrust` (its `networkId` and governance `state`; nothing from the
 * node's JSON).
 *
 * `expect` may name: `id` (the id the page was asked for), `kinds` (allowed kinds), `target`
 * (for an amendment or retraction: the original's id), `author` (hex key the record must share),
 * and `content` (the draft JSON whose text the page shows, to compare with the signed body).
 *
 * Returns `{ok, checks: [{key, ok, args}], member, author, header, body, erased}`; each check's
 * `key` names a message in i18n.js (`check.<key>.ok` / `check.<key>.fail`).
 *
 * An erased record (docs/PROTOCOL.md §2.1: no body although the header's `body_len` is not 0) is
 * checked as the protocol says: its header and signature as usual, its body hash not (the body is
 * gone), and instead the proof (`erasure` check, `checkErasure`). Then `erased` is `{by: 'record'
 * | 'decision', id, ground, createdAt}` and `body` is null; it is never compared with content.
 */
export async function verifyRecord(rec, trust, expect = {}) {
  const checks = [];
  const add = (key, ok, args = {}) => {
    checks.push({ key, ok, args });
    return ok;
  };
  const result = { ok: false, checks, member: null, author: null, header: null, body: null, erased: null };
  const why = cryptoUnavailable();
  if (why) {
    add(why, false);
    return result;
  }

  // 1. The exact signed bytes.
  let header, body, signature;
  try {
    header = fromBase64(rec?.signed?.header);
    body = fromBase64(rec?.signed?.body);
    signature = fromBase64(rec?.signed?.signature);
  } catch {
    add('encoding', false);
    return result;
  }

  // 2. Record id = SHA-256(header).
  const id = hex(await sha256(header));
  const wanted = [rec?.id, expect.id].filter((x) => x !== undefined && x !== null);
  add('id', wanted.length > 0 && wanted.every((x) => sameHex(x, id)), { id });

  // 3. The header, decoded here.
  let h;
  try {
    h = decodeHeader(header);
  } catch (e) {
    add('header', false, { detail: e.message });
    return result;
  }
  result.header = h;
  const authorHex = hex(h.author);
  result.author = authorHex;
  const disagreements = [];
  if (!h.kind) disagreements.push('kind');
  if (rec.kind !== undefined && rec.kind !== h.kind) disagreements.push('kind');
  if (expect.kinds && !expect.kinds.includes(h.kind)) disagreements.push('kind');
  if (rec.seq !== undefined && String(rec.seq) !== h.seq.toString()) disagreements.push('seq');
  const prevHex = h.prev.length ? hex(h.prev) : null;
  if (h.prev.length !== 0 && h.prev.length !== 32) disagreements.push('prev');
  if (rec.prev !== undefined && (rec.prev || null) !== prevHex) disagreements.push('prev');
  if (rec.created_at_ms !== undefined && String(rec.created_at_ms) !== h.createdAt.toString()) {
    disagreements.push('created_at');
  }
  if (rec.author !== undefined && !sameHex(rec.author, authorHex)) disagreements.push('author');
  add('header', disagreements.length === 0, { detail: [...new Set(disagreements)].join(', ') });

  // 4. Body hash and length; or, for an erased record, the proof of its erasure instead.
  const erased = body.length === 0 && h.bodyLen > 0n;
  if (erased) {
    const proof = await checkErasure(rec, id, h, trust);
    result.erased = proof.erased;
    add('erasure', proof.ok, proof.args);
  } else {
    const bodyHash = await sha256(body);
    add('body', hex(bodyHash) === hex(h.bodySha256) && BigInt(body.length) === h.bodyLen);
    // A record with its body never carries an erasure (RecordError::BadErasureProof).
    if (typeof rec?.signed?.erasure === 'string' && rec.signed.erasure !== '') {
      add('erasure', false, { reason: 'with-body' });
    }
  }

  // 5. The author holds (or held) a member's key under the signed charter and decisions, and the
  // key may sign this seq (positional validity, PROTOCOL §7).
  const judged = trust?.state ? judgeKey(trust.state, authorHex, h.seq) : null;
  result.member = judged?.member ?? null;
  if (!judged) {
    add('no-charter', false);
  } else if (!judged.member) {
    add('author', false, { key: authorHex });
  } else if (rec.member !== undefined && rec.member !== judged.member) {
    add('author', false, { key: authorHex, code: judged.member, claimed: String(rec.member) });
  } else if (expect.author && !sameHex(expect.author, authorHex)) {
    add('author', false, { key: authorHex, code: judged.member, other: true });
  } else {
    add('author', true, { code: judged.member, key: authorHex });
    add('key-valid', judged.ok, {
      seq: h.seq.toString(),
      last: judged.lastSeq === null ? null : judged.lastSeq.toString(),
      decision: judged.limitedBy,
    });
  }

  // 6. The network: the signed charter's.
  const net = hex(h.networkId);
  add('network', !!trust?.networkId && net === trust.networkId && sameHex(rec.network_id ?? net, net), {
    id: net,
  });

  // 7. The signature: Ed25519 over "hubnet-record-v1" || 0x00 || header.
  const message = new Uint8Array(DOMAIN.length + 1 + header.length);
  message.set(DOMAIN, 0);
  message[DOMAIN.length] = 0;
  message.set(header, DOMAIN.length + 1);
  // The browser's verdict under the signature rule (PROTOCOL §1.3), naming the check that failed
  // (trust.js `ed25519Verdict`, the function the vector tests run: tests/ui/ed25519.test.js and
  // the browser test `every_signature_vector_gets_the_rules_verdict_in_the_page`).
  if (!(await ed25519Supported())) {
    add('no-ed25519', false);
  } else {
    const v = await ed25519Verdict(h.author, signature, message);
    // `problem` names a point defect (key.problem.* in i18n.js); WebCrypto's error is a detail.
    const why = v.check === 'webcrypto' ? { detail: v.problem } : { problem: v.problem };
    add('signature', v.ok, v.ok ? {} : { check: v.check, ...why });
  }

  // 8. The body as signed, and what the page shows of it. An erased record has none, and the
  // node must not claim one.
  if (erased) {
    if (rec.body !== undefined && rec.body !== null) add('content', false, { detail: 'body' });
    result.ok = checks.every((c) => c.ok);
    return result;
  }
  let b = null;
  try {
    b = h.kind ? decodeBody(h.kindNo, body) : null;
  } catch (e) {
    add('content', false, { detail: e.message });
  }
  result.body = b;
  if (b) {
    if (expect.target !== undefined) {
      const t = b.target ? hex(b.target) : '';
      add('target', sameHex(t, expect.target), { id: t });
    }
    const diffs = [];
    const claimed = rec.body;
    if (CONTENT.includes(b.kind)) {
      if (claimed !== undefined) diffs.push(...compareContent(claimed, b));
      if (expect.content !== undefined) diffs.push(...compareContent(expect.content, b));
    } else {
      if (claimed !== undefined && claimed !== null && claimed.kind !== b.kind) diffs.push('kind');
      if (claimed?.target !== undefined && !sameHex(claimed.target, hex(b.target))) {
        diffs.push('target');
      }
      if (b.kind === 'amendment') {
        if (!b.content) diffs.push('content');
        else {
          if (claimed?.record !== undefined) diffs.push(...compareContent(claimed.record, b.content));
          if (expect.content !== undefined) diffs.push(...compareContent(expect.content, b.content));
        }
        if (claimed !== undefined && !sameLocalized(claimed?.note, b.note)) diffs.push('note');
      } else if (b.kind === 'erasure') {
        if (claimed !== undefined && claimed !== null) {
          if (!sameStr(claimed.ground, b.ground)) diffs.push('ground');
          if (!sameList((claimed.amendments ?? []).map((x) => String(x).toLowerCase()), b.amendments)) {
            diffs.push('amendments');
          }
        }
      } else if (b.kind === 'confirmation') {
        if (claimed !== undefined && claimed !== null) {
          if (!sameHex(String(claimed.programme ?? ''), b.programme)) diffs.push('programme');
          if (!sameHex(String(claimed.version ?? ''), b.version)) diffs.push('version');
          if (!sameLocalized(claimed.note, b.note)) diffs.push('note');
        }
      } else if (claimed !== undefined && !sameLocalized(claimed?.reason, b.reason)) {
        diffs.push('reason');
      }
    }
    add('content', diffs.length === 0, { detail: [...new Set(diffs)].join(', ') });
  }

  result.ok = checks.every((c) => c.ok);
  return result;
}

/** The kinds whose body is content the pages show (the others change or erase a record). */
const CONTENT = ['practice', 'event', 'reform_profile', 'institution', 'expert', 'programme'];

/**
 * The proof that record `id` (header `h`, its body gone) was erased, as docs/PROTOCOL.md §2.1
 * states it: a decision of the trusted governance (`trust.state.erased`, from the committee's
 * applied `EraseRecords`) that erases it; or `signed.erasure`, an encoded SignedRecord that
 * carries its own body and no erasure, valid under every rule of §1 here (id, header, body hash,
 * author key, network, signature: `verifyRecord` itself), by the same author at a greater seq,
 * of kind erasure, whose `target` or `amendments` name `id`. Returns `{ok, args, erased}`;
 * `args.reason` names what failed: `missing` (no proof), `decision` (the node says a decision
 * erased it, the trusted governance has none that does), `decode`, `with-erasure`, `proof` (the
 * erasure's own check `check` failed), `kind`, `author`, `seq`, `target`.
 */
export async function checkErasure(rec, id, h, trust) {
  const fail = (reason, extra = {}) => ({ ok: false, args: { reason, ...extra }, erased: null });
  const byDecision = trust?.state?.erased?.get(id) ?? null;
  if (byDecision) {
    return {
      ok: true,
      args: { by: 'decision', id: byDecision.id, ground: byDecision.ground },
      erased: { by: 'decision', id: byDecision.id, seq: byDecision.seq, ground: byDecision.ground, createdAt: byDecision.createdAt },
    };
  }
  const text = rec?.signed?.erasure;
  if (typeof text !== 'string' || text === '') {
    return rec?.erased_by?.decision ? fail('decision', { id: String(rec.erased_by.decision) }) : fail('missing');
  }
  let proof;
  try {
    proof = decodeSigned(fromBase64(text));
  } catch (e) {
    return fail('decode', { detail: e instanceof ProtoError ? e.message : String(e) });
  }
  if (proof.body.length === 0 || proof.erasure.length !== 0) return fail('with-erasure');
  const b64 = (x) => {
    let bin = '';
    for (const byte of x) bin += String.fromCharCode(byte);
    return btoa(bin);
  };
  const res = await verifyRecord(
    { signed: { header: b64(proof.header), body: b64(proof.body), signature: b64(proof.signature) } },
    trust,
    { id: hex(await sha256(proof.header)), kinds: ['erasure'] },
  );
  const bad = res.checks.find((c) => !c.ok);
  if (bad) return fail(bad.key === 'header' && res.header && res.header.kind !== 'erasure' ? 'kind' : 'proof', { check: bad.key });
  const e = res.body;
  if (!e || e.kind !== 'erasure') return fail('kind');
  if (hex(res.header.author) !== hex(h.author)) return fail('author', { key: hex(res.header.author) });
  if (res.header.seq <= h.seq) return fail('seq', { seq: res.header.seq.toString() });
  const named = [hex(e.target), ...e.amendments];
  if (!named.includes(id)) return fail('target');
  const proofId = hex(await sha256(proof.header));
  return {
    ok: true,
    args: { by: 'record', id: proofId, ground: e.ground },
    erased: { by: 'record', id: proofId, seq: res.header.seq, ground: e.ground, createdAt: res.header.createdAt },
  };
}

function emptyLocalized(x) {
  return x === null || x === undefined || (typeof x === 'object' && Object.keys(x).length === 0);
}

function sameLocalized(a, b) {
  if (emptyLocalized(a) || emptyLocalized(b)) return emptyLocalized(a) && emptyLocalized(b);
  if (typeof a !== 'object') return false;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

function sameStr(a, b) {
  return (a ?? '') === (b ?? '');
}

function sameList(a, b) {
  const x = Array.isArray(a) ? a : [];
  const y = Array.isArray(b) ? b : [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * Compares the node's draft JSON `json` with the content decoded from the signed bytes; returns
 * the names of the fields that differ (empty when everything shown is what was signed).
 */
export function compareContent(json, decoded) {
  const diff = [];
  if (!json || typeof json !== 'object') return ['content'];
  if (json.kind !== undefined && json.kind !== decoded.kind) diff.push('kind');
  const loc = (k) => sameLocalized(json[k], decoded[k]) || diff.push(k);
  const s = (k) => sameStr(json[k], decoded[k]) || diff.push(k);
  const l = (k) => sameList(json[k], decoded[k]) || diff.push(k);
  if (decoded.kind === 'practice') {
    loc('title');
    loc('summary');
    loc('body');
    loc('results');
    s('country');
    s('license');
    l('topics');
    const p = json.reform_period;
    const q = decoded.reform_period;
    if (!((p ?? null) === null && (q === null || (q.start === '' && q.end === '')))) {
      if (!p || !q || !sameStr(p.start, q.start) || !sameStr(p.end, q.end)) diff.push('reform_period');
    }
    const jl = Array.isArray(json.links) ? json.links : [];
    if (
      jl.length !== decoded.links.length ||
      !jl.every(
        (x, i) => sameStr(x?.url, decoded.links[i].url) && sameLocalized(x?.title, decoded.links[i].title),
      )
    ) {
      diff.push('links');
    }
  } else if (decoded.kind === 'event') {
    loc('title');
    loc('description');
    loc('organiser');
    for (const k of [
      'event_type',
      'start',
      'end',
      'time_zone',
      'online_url',
      'registration_url',
      'registration_deadline',
      'status',
      'country',
    ]) {
      s(k);
    }
    l('topics');
    l('languages');
    const p = json.place ?? null;
    const q = decoded.place;
    const qEmpty = q === null || (emptyLocalized(q.name) && emptyLocalized(q.address) && !q.country);
    if (!(p === null && qEmpty)) {
      if (
        !p ||
        !q ||
        !sameLocalized(p.name, q.name) ||
        !sameLocalized(p.address, q.address) ||
        !sameStr(p.country, q.country)
      ) {
        diff.push('place');
      }
    }
  } else if (decoded.kind === 'reform_profile') {
    diff.push(...compareProfile(json, decoded));
  } else if (decoded.kind === 'institution') {
    loc('name');
    loc('mandate');
    for (const k of ['type', 'country', 'parent', 'website', 'wikidata', 'ror', 'contact_email']) s(k);
    l('topics');
    l('languages');
    if ((json.sample ?? false) !== decoded.sample) diff.push('sample');
  } else if (decoded.kind === 'expert') {
    diff.push(...compareExpert(json, decoded));
  } else if (decoded.kind === 'programme') {
    diff.push(...compareProgramme(json, decoded));
  } else {
    diff.push('kind');
  }
  return diff;
}

/**
 * A value with every empty part left out ('' / null / false / [] / {} / absent are all "none",
 * as the node's draft JSON leaves them out); numbers, 0 included, stay.
 */
function pruned(x) {
  if (x === null || x === undefined || x === '' || x === false) return undefined;
  if (Array.isArray(x)) {
    const out = x.map((v) => pruned(v) ?? null);
    return out.length ? out : undefined;
  }
  if (typeof x === 'object') {
    const out = {};
    for (const k of Object.keys(x).sort()) {
      const v = pruned(x[k]);
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return x;
}

function sameValue(a, b) {
  return JSON.stringify(pruned(a) ?? null) === JSON.stringify(pruned(b) ?? null);
}

/** The draft fields of a programme, in the order of record.proto. */
const PROGRAMME_FIELDS = [
  'title', 'description', 'objectives', 'participants', 'status', 'planned_start', 'planned_end', 'actual_start',
  'actual_end', 'countries', 'topics', 'budget', 'results', 'related', 'practice_ids', 'event_ids',
  'reform_profile_ids', 'institution_ids', 'expert_ids', 'endorsed_by', 'sample',
];

/**
 * A programme's draft JSON against the decoded one: every field, each difference named by its
 * field (`participants`, `results`, …). Ids compare in lowercase; absent and empty are alike.
 */
function compareProgramme(json, decoded) {
  const diff = [];
  const lower = (v) => (typeof v === 'string' && /^[0-9A-Fa-f]{64}$/.test(v) ? v.toLowerCase() : v);
  const ids = (k, v) => {
    if (/_ids$/.test(k)) return Array.isArray(v) ? v.map(lower) : v;
    if (k === 'endorsed_by') return lower(v);
    if (k === 'related') return Array.isArray(v) ? v.map((r) => (r && typeof r === 'object' ? { ...r, id: lower(r.id) } : r)) : v;
    if (k === 'participants') {
      return Array.isArray(v) ? v.map((p) => (p && typeof p === 'object' ? { ...p, institution: lower(p.institution) } : p)) : v;
    }
    return v;
  };
  for (const k of PROGRAMME_FIELDS) if (!sameValue(ids(k, json[k]), ids(k, decoded[k]))) diff.push(k);
  return diff;
}

/** An organisation of the draft JSON (`{id}` or `{name}`, or absent) against a decoded one. */
function sameOrganisation(a, b) {
  const x = a ?? null;
  const y = b ?? null;
  const emptyY = y === null || (y.id === undefined && y.name === undefined);
  if (x === null || (typeof x === 'object' && x.id === undefined && x.name === undefined)) return emptyY;
  if (typeof x !== 'object' || emptyY) return false;
  if (x.id !== undefined) return y.id !== undefined && sameHex(String(x.id), y.id);
  return y.name !== undefined && sameLocalized(x.name, y.name);
}

/** An expert's draft JSON against the decoded one: every field the pages show. */
function compareExpert(json, decoded) {
  const diff = [];
  for (const k of ['name', 'position', 'summary']) if (!sameLocalized(json[k], decoded[k])) diff.push(k);
  for (const k of ['contact_email', 'reconfirm_by', 'country']) if (!sameStr(json[k], decoded[k])) diff.push(k);
  for (const k of ['topics', 'languages', 'formats']) if (!sameList(json[k], decoded[k])) diff.push(k);
  if ((json.public_official ?? false) !== decoded.public_official) diff.push('public_official');
  if ((json.sample ?? false) !== decoded.sample) diff.push('sample');
  if (!sameOrganisation(json.institution, decoded.institution)) diff.push('institution');
  const affiliations = Array.isArray(json.affiliations) ? json.affiliations : [];
  if (
    affiliations.length !== decoded.affiliations.length ||
    !affiliations.every((a, i) => {
      const d = decoded.affiliations[i];
      return !!a && typeof a === 'object' && sameOrganisation(a.organisation, d.organisation) &&
        sameLocalized(a.role, d.role) && sameStr(a.start, d.start) && sameStr(a.end, d.end);
    })
  ) {
    diff.push('affiliations');
  }
  const works = Array.isArray(json.works) ? json.works : [];
  if (
    works.length !== decoded.works.length ||
    !works.every((w, i) => sameStr(w?.url, decoded.works[i].url) && sameLocalized(w?.title, decoded.works[i].title))
  ) {
    diff.push('works');
  }
  const c = json.consent ?? null;
  const d = decoded.consent;
  if (c === null ? d !== null : !d || typeof c !== 'object' || !sameStr(c.date, d.date) ||
    !sameStr(c.scope ?? '', d.scope ?? '') || !sameStr(String(c.document_sha256 ?? '').toLowerCase(), d.document_sha256)) {
    diff.push('consent');
  }
  return diff;
}

function samePeriod(p, q) {
  const emptyQ = q === null || q === undefined || (q.start === '' && q.end === '');
  if ((p ?? null) === null) return emptyQ;
  return !!q && typeof p === 'object' && sameStr(p.start, q.start) && sameStr(p.end, q.end);
}

/** A JSON number (or absent) against a decoded one (or absent): exactly equal. */
function sameNumber(a, b) {
  if (a === undefined || a === null) return b === undefined || b === null;
  return typeof a === 'number' && typeof b === 'number' && a === b;
}

/** `{value, year}` (or absent) against a decoded Measure (or null). */
function sameMeasure(a, b) {
  if (a === undefined || a === null) return b === null || b === undefined;
  return !!b && typeof a === 'object' && sameNumber(a.value, b.value) && sameNumber(a.year, b.year);
}

/**
 * A reform profile's draft JSON against the decoded one: every field the pages show, each
 * difference named (`reforms[1].status`, `indicators[0].value`).
 */
function compareProfile(json, decoded) {
  const diff = [];
  for (const k of ['title', 'summary', 'findings', 'challenges', 'next_steps']) {
    if (!sameLocalized(json[k], decoded[k])) diff.push(k);
  }
  for (const k of ['as_of', 'country', 'license', 'previous']) {
    if (!sameStr(json[k], decoded[k])) diff.push(k);
  }
  if ((json.sample ?? false) !== decoded.sample) diff.push('sample');
  if (!sameList(json.reform_areas, decoded.reform_areas)) diff.push('reform_areas');
  if (!sameList((json.evidence ?? []).map((x) => String(x).toLowerCase()), decoded.evidence)) {
    diff.push('evidence');
  }
  if (!samePeriod(json.period, decoded.period)) diff.push('period');

  const reforms = Array.isArray(json.reforms) ? json.reforms : [];
  if (reforms.length !== decoded.reforms.length) diff.push('reforms');
  else {
    reforms.forEach((r, i) => {
      const d = decoded.reforms[i];
      const at = (k) => diff.push(`reforms[${i}].${k}`);
      if (!r || typeof r !== 'object') return at('title');
      if (!sameLocalized(r.title, d.title)) at('title');
      if (!sameStr(r.status, d.status)) at('status');
      if (!sameStr(r.reform_area, d.reform_area)) at('reform_area');
      if (!sameLocalized(r.lead_institution, d.lead_institution)) at('lead_institution');
      if (!sameLocalized(r.objectives, d.objectives)) at('objectives');
      if (!samePeriod(r.period, d.period)) at('period');
      const a = r.legal_act ?? null;
      const b = d.legal_act;
      if (a === null ? b !== null : !b || !sameLocalized(a.name, b.name) || !sameStr(a.number, b.number) ||
        !sameStr(a.date, b.date) || !sameStr(a.url, b.url)) {
        at('legal_act');
      }
    });
  }

  const indicators = Array.isArray(json.indicators) ? json.indicators : [];
  if (indicators.length !== decoded.indicators.length) diff.push('indicators');
  else {
    indicators.forEach((x, i) => {
      const d = decoded.indicators[i];
      const at = (k) => diff.push(`indicators[${i}].${k}`);
      if (!x || typeof x !== 'object') return at('code');
      if (!sameStr(x.code, d.code)) at('code');
      const has = d.value !== undefined;
      if (!sameNumber(x.value, d.value)) at('value');
      // The node leaves out a year 0; without a value there is no year at all.
      if (has ? !sameNumber(x.year ?? 0, d.year) : x.year !== undefined && x.year !== null) at('year');
      if (!sameLocalized(x.not_available, d.not_available)) at('not_available');
      if (!sameStr(x.unit, d.unit)) at('unit');
      const s = x.source ?? null;
      const t = d.source;
      if (s === null ? t !== null : !t || !sameLocalized(s.name, t.name) || !sameStr(s.url, t.url) ||
        !sameStr(s.license, t.license)) {
        at('source');
      }
      if (!sameMeasure(x.baseline, d.baseline)) at('baseline');
      if (!sameMeasure(x.target, d.target)) at('target');
    });
  }
  return diff;
}

/**
 * Checks one column of a comparison (`GET /api/v1/compare`: the column head `{country,
 * profile}` and its cells, one per row of `codes`) against the profile decoded from the signed
 * bytes of the record in force. Returns `{head, cells}`: the head's fields that differ (`country`,
 * `title`, `as_of`, `sample`) and the codes of the cells that differ in status, value, year,
 * baseline, target, source, reason or the record they name (both empty when the column shows
 * what was signed).
 */
export function compareColumn(column, codes, cells, decoded) {
  const head = [];
  const p = column?.profile ?? null;
  if (!decoded || decoded.kind !== 'reform_profile' || !p) return { head: ['profile'], cells: [...codes] };
  if (!sameStr(column.country, decoded.country)) head.push('country');
  if (!sameLocalized(p.title, decoded.title)) head.push('title');
  if (!sameStr(p.as_of, decoded.as_of)) head.push('as_of');
  if ((p.sample ?? false) !== decoded.sample) head.push('sample');
  const bad = [];
  codes.forEach((code, i) => {
    const c = cells?.[i];
    const x = decoded.indicators.find((y) => y.code === code);
    let ok = !!c && typeof c === 'object' && sameHex(c.record, p.record);
    if (ok) {
      if (!x) ok = c.status === 'not_reported';
      else if (x.value !== undefined) {
        const s = c.source ?? null;
        ok = c.status === 'value' && sameNumber(c.value, x.value) && sameNumber(c.year, x.year) &&
          sameMeasure(c.baseline, x.baseline) && sameMeasure(c.target, x.target) &&
          (s === null
            ? x.source === null
            : !!x.source && sameLocalized(s.name, x.source.name) && sameStr(s.url, x.source.url) &&
              sameStr(s.license, x.source.license));
      } else {
        ok = c.status === 'not_available' && sameLocalized(c.reason, x.not_available);
      }
    }
    if (!ok) bad.push(code);
  });
  return { head, cells: bad };
}
