// What the browser trusts, derived from signatures alone (docs/PROTOCOL.md §3 and §7): the
// committee-signed charter and the committee's decisions, as the node's bundle carries them
// (`GET /api/v1/bundle?records=false`). Nothing the node says in JSON is trusted for keys or for
// the network id.
//
// From the bundle's bytes this module decodes the signed charter, re-encodes it by the canonical
// rules and requires the same bytes, derives the network id (SHA-256 of those bytes), checks the
// committee's signatures (quorum of distinct committee keys), checks every decision the same way,
// and computes the governance state the way `hubnet_protocol::governance` does: the canonical
// chain, void decisions, each key's last valid seq, and the records the committee's applied
// `EraseRecords` decisions erased (`state.erased`, which verify.js takes as proof of an erasure).
// A record's author and seq are then judged against that state (`judgeKey`). Every key that enters (member and committee keys in the charter,
// keys in decisions) must be a canonical encoding of a point of the prime-order subgroup that is
// not of small order: checked here with BigInt Edwards25519 arithmetic, since WebCrypto's Ed25519
// (cofactorless, canonical s and R) agrees with the signature rule only for such keys.
//
// Pure: no DOM, no fetch. WebCrypto (`crypto.subtle`) is used for SHA-256 and Ed25519, so the
// module runs the same in a browser and in Node.js (`tests/ui/trust.test.js`).

import { ProtoError, readFields } from './proto.js';

// ---------------------------------------------------------------------------------------------
// Edwards25519 (RFC 8032 §5.1), only what key checks need.

/** The field prime 2^255 - 19. */
export const P = 2n ** 255n - 19n;
/** The order of the prime-order subgroup (and of the base point). */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function mod(a) {
  const r = a % P;
  return r >= 0n ? r : r + P;
}

function pow(base, exp) {
  let r = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

const D = mod(-121665n * pow(121666n, P - 2n));
const D2 = mod(2n * D);
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** The neutral element, in extended coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, xy = T/Z. */
export const IDENTITY = Object.freeze({ X: 0n, Y: 1n, Z: 1n, T: 0n });

/** P + Q (the unified formula "add-2008-hwcd-3"; complete on this curve, so doubling too). */
export function pointAdd(p, q) {
  const a = mod((p.Y - p.X) * (q.Y - q.X));
  const b = mod((p.Y + p.X) * (q.Y + q.X));
  const c = mod(p.T * D2 * q.T);
  const d = mod(2n * p.Z * q.Z);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return { X: mod(e * f), Y: mod(g * h), Z: mod(f * g), T: mod(e * h) };
}

/** [n]P for n ≥ 0, double and add. */
export function pointMul(p, n) {
  let r = IDENTITY;
  let q = p;
  let k = n;
  while (k > 0n) {
    if (k & 1n) r = pointAdd(r, q);
    q = pointAdd(q, q);
    k >>= 1n;
  }
  return r;
}

/** Whether P is the neutral element. */
export function isIdentity(p) {
  return mod(p.X) === 0n && mod(p.Y - p.Z) === 0n;
}

function bytesToInt(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/**
 * Decodes a 32-byte point encoding. Returns `{point}` or `{problem}`, where problem is
 * `length` (not 32 bytes), `non-canonical` (y ≥ p, or x = 0 with the sign bit set) or
 * `not-a-point` (no x for this y).
 */
export function decompress(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) return { problem: 'length' };
  const sign = bytes[31] >> 7;
  const y = bytesToInt(bytes) & ((1n << 255n) - 1n);
  if (y >= P) return { problem: 'non-canonical' };
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  const v3 = (v * v * v) % P;
  let x = (u * v3 % P) * pow(u * v3 % P * v3 % P * v, (P - 5n) / 8n) % P;
  const vx2 = (v * x % P) * x % P;
  if (vx2 === u) {
    // x is a square root already.
  } else if (vx2 === mod(-u)) {
    x = (x * SQRT_M1) % P;
  } else {
    return { problem: 'not-a-point' };
  }
  if (x === 0n && sign === 1) return { problem: 'non-canonical' };
  if (Number(x & 1n) !== sign) x = P - x;
  return { point: { X: x, Y: y, Z: 1n, T: (x * y) % P } };
}

/** The canonical 32-byte encoding of a point. */
export function compress(p) {
  const zi = pow(p.Z, P - 2n);
  const x = mod(p.X * zi);
  let y = mod(p.Y * zi);
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(y & 0xffn);
    y >>= 8n;
  }
  out[31] |= Number(x & 1n) << 7;
  return out;
}

/**
 * Why 32 bytes are not acceptable as a member or committee key, or null when they are: the
 * canonical encoding of a point of the prime-order subgroup, not of small order. Problems:
 * `length`, `non-canonical`, `not-a-point`, `small-order` ([8]A is the identity) and `torsion`
 * ([l]A is not the identity: A has a component in the small-order subgroup).
 */
export function keyProblem(bytes) {
  const d = decompress(bytes);
  if (d.problem) return d.problem;
  if (isIdentity(pointMul(d.point, 8n))) return 'small-order';
  if (!isIdentity(pointMul(d.point, L))) return 'torsion';
  return null;
}

/**
 * Why an Ed25519 signature's `R` (its first 32 bytes) breaks the rule, or null when it is a
 * canonical point encoding not of small order. Whether `R` also lies in the prime-order subgroup
 * is left to the equation: see `ed25519Verdict`.
 */
export function signatureProblem(signature) {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return 'length';
  const d = decompress(signature.subarray(0, 32));
  if (d.problem) return d.problem;
  if (isIdentity(pointMul(d.point, 8n))) return 'small-order';
  return null;
}

/** Whether the 32 bytes `s` (little-endian) are below the group order. */
function sCanonical(s) {
  return bytesToInt(s) < L;
}

// Keys seen by `ed25519Verdict`, by hex, with their problem (or null): a key signs many
// signatures, and its check costs a scalar multiplication. Bounded, so a node serving many keys
// cannot grow it.
const keyChecks = new Map();
const KEY_CHECKS_MAX = 256;

function cachedKeyProblem(key) {
  const hexKey = toHex(key);
  if (keyChecks.has(hexKey)) return keyChecks.get(hexKey);
  const problem = keyProblem(key);
  if (keyChecks.size >= KEY_CHECKS_MAX) keyChecks.clear();
  keyChecks.set(hexKey, problem);
  return problem;
}

/**
 * The browser's verdict on one Ed25519 signature `(R, s)` by `key` over `message` under the
 * signature rule (docs/PROTOCOL.md §1.3), and which check decided it. Every signature the UI
 * checks goes through here: records (verify.js), and the committee's signatures on the charter
 * and decisions (`verifyEd25519`).
 *
 * In order: the key (canonical, a point, not of small order, no torsion component: `keyProblem`),
 * the signature's length, `R` (canonical, a point, not of small order: `signatureProblem`), `s`
 * canonical (`s < ℓ`), then WebCrypto's Ed25519 verification of `[s]B = R + [k]A`. With `A` in the
 * prime-order subgroup, WebCrypto compares the bytes of `R` with the canonical encoding of
 * `[s]B - [k]A`, a point of that subgroup, so an `R` with a torsion component never verifies: the
 * verdict needs no subgroup check of `R`. Only when WebCrypto refuses is `[ℓ]R` computed, to say
 * whether `R`'s torsion component or the equation itself failed (an honest signature pays no extra
 * scalar multiplication).
 *
 * Returns `{ok: true, check: null, problem: null}` or `{ok: false, check, problem}` with `check`:
 * `key` (problem as `keyProblem`), `length` (the signature is not 64 bytes), `R` (problem
 * `non-canonical`, `not-a-point`, `small-order` or `torsion`), `s` (problem `non-canonical`),
 * `equation` (WebCrypto: `[s]B ≠ R + [k]A`) or `webcrypto` (WebCrypto could not check; problem
 * its error's name). Each call stands alone: a verdict never depends on other signatures.
 */
export async function ed25519Verdict(key, signature, message) {
  const fail = (check, problem = null) => ({ ok: false, check, problem });
  const kp = key instanceof Uint8Array ? cachedKeyProblem(key) : 'length';
  if (kp) return fail('key', kp);
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return fail('length');
  const rp = signatureProblem(signature);
  if (rp) return fail('R', rp);
  if (!sCanonical(signature.subarray(32))) return fail('s', 'non-canonical');
  let ok;
  try {
    const k = await crypto.subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']);
    ok = await crypto.subtle.verify({ name: 'Ed25519' }, k, signature, message);
  } catch (e) {
    return fail('webcrypto', String(e?.name ?? e));
  }
  if (ok) return { ok: true, check: null, problem: null };
  const r = decompress(signature.subarray(0, 32)).point;
  if (!isIdentity(pointMul(r, L))) return fail('R', 'torsion');
  return fail('equation');
}

// ---------------------------------------------------------------------------------------------
// Protobuf, with prost's decoding semantics and the canonical encoding of PROTOCOL §3.

/** Thrown for bytes that do not decode (the wire reader's ProtoError, under the name this module
 * has always used). */
const DecodeError = ProtoError;
export { DecodeError };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

// Schemas: field number -> [name, type, sub-schema]. Types: uint32, uint64, int64, bool, string, bytes,
// msg (merged when repeated, as prost does), rmsg (repeated message), rbytes (repeated bytes),
// map (map<string,string>). A field with `oneof` set belongs to that oneof.
const S = {};
S.localized = { 1: ['text', 'map'] };
S.limits = {
  1: ['max_record_bytes', 'uint64'],
  2: ['max_clock_skew_secs', 'uint64'],
  3: ['max_short_text_bytes', 'uint64'],
  4: ['max_summary_bytes', 'uint64'],
  5: ['max_body_bytes', 'uint64'],
  6: ['max_list_items', 'uint64'],
  7: ['max_languages', 'uint64'],
  8: ['max_url_bytes', 'uint64'],
  9: ['max_records_per_hour', 'uint64'],
};
S.member = { 1: ['code', 'string'], 2: ['name', 'msg', S.localized], 3: ['publishing_key', 'bytes'] };
S.committee = { 1: ['keys', 'rbytes'], 2: ['quorum', 'uint32'] };
S.term = { 1: ['slug', 'string'], 2: ['name', 'msg', S.localized] };
S.indicator = {
  1: ['code', 'string'],
  2: ['name', 'msg', S.localized],
  3: ['unit', 'string'],
  4: ['higher_is_better', 'bool'],
  5: ['reform_area', 'string'],
};
S.vocabulary = {
  1: ['topics', 'rmsg', S.term],
  2: ['reform_areas', 'rmsg', S.term],
  3: ['indicators', 'rmsg', S.indicator],
};
S.charter = {
  1: ['version', 'uint32'],
  2: ['name', 'msg', S.localized],
  3: ['members', 'rmsg', S.member],
  4: ['committee', 'msg', S.committee],
  5: ['limits', 'msg', S.limits],
  6: ['vocabulary', 'msg', S.vocabulary],
};
S.signature = { 1: ['key', 'bytes'], 2: ['signature', 'bytes'] };
S.signedCharter = { 1: ['charter', 'bytes'], 2: ['signatures', 'rmsg', S.signature] };
S.signedDecision = { 1: ['decision', 'bytes'], 2: ['signatures', 'rmsg', S.signature] };
S.admit = { 1: ['code', 'string'], 2: ['name', 'msg', S.localized], 3: ['publishing_key', 'bytes'] };
S.suspend = { 1: ['code', 'string'], 2: ['last_seq', 'uint64'] };
S.reinstate = { 1: ['code', 'string'] };
S.rotateKey = { 1: ['code', 'string'], 2: ['new_key', 'bytes'], 3: ['old_key_last_seq', 'uint64'] };
S.revokeKey = { 1: ['key', 'bytes'], 2: ['last_valid_seq', 'uint64'] };
S.amendLimits = { 1: ['limits', 'msg', S.limits], 2: ['effective_from', 'int64'] };
S.amendVocabulary = { 1: ['additions', 'msg', S.vocabulary] };
S.eraseRecords = { 1: ['records', 'rbytes'], 2: ['ground', 'uint32'] };
S.decision = {
  1: ['network_id', 'bytes'],
  2: ['seq', 'uint64'],
  3: ['prev', 'bytes'],
  4: ['created_at', 'int64'],
  5: ['reason', 'msg', S.localized],
  10: ['admit', 'msg', S.admit, 'action'],
  11: ['suspend', 'msg', S.suspend, 'action'],
  12: ['reinstate', 'msg', S.reinstate, 'action'],
  13: ['rotate_key', 'msg', S.rotateKey, 'action'],
  14: ['revoke_key', 'msg', S.revokeKey, 'action'],
  15: ['amend_limits', 'msg', S.amendLimits, 'action'],
  16: ['amend_vocabulary', 'msg', S.amendVocabulary, 'action'],
  17: ['erase_records', 'msg', S.eraseRecords, 'action'],
};
// Only what trust needs of a bundle; records (3) and checkpoints (5) are skipped unread.
S.bundle = { 1: ['version', 'uint32'], 2: ['charter', 'rbytes'], 4: ['decisions', 'rbytes'] };
S.mapEntry = { 1: ['key', 'string'], 2: ['value', 'string'] };
/** The message schemas, for tests that build messages with `encodeMessage`. */
export const SCHEMAS = S;

function emptyOf(schema) {
  const out = {};
  for (const [name, type, , oneof] of Object.values(schema)) {
    if (oneof) {
      out[oneof] = null;
      continue;
    }
    out[name] = {
      uint32: 0n, uint64: 0n, int64: 0n, bool: false, string: '', bytes: new Uint8Array(0), msg: null,
      rmsg: [], rbytes: [], map: new Map(),
    }[type];
  }
  return out;
}

/**
 * Decodes `bytes` as `schema` the way prost does: the last scalar wins, a non-repeated message
 * merges every occurrence, a oneof keeps the last field (merging repeats of that same field),
 * unknown fields are skipped, a known field with the wrong wire type is an error.
 */
export function decodeMessage(bytes, schema, into = emptyOf(schema)) {
  const out = into;
  for (const f of readFields(bytes)) {
    const spec = schema[f.no];
    if (!spec) continue;
    const [name, type, sub, oneof] = spec;
    const wantWire = ['uint32', 'uint64', 'int64', 'bool'].includes(type) ? 0 : 2;
    if (f.wire !== wantWire) throw new DecodeError(`field ${name} has wire type ${f.wire}`);
    switch (type) {
      case 'uint32':
        out[name] = BigInt.asUintN(32, f.value);
        break;
      case 'uint64':
        out[name] = f.value;
        break;
      case 'int64':
        out[name] = BigInt.asIntN(64, f.value);
        break;
      case 'bool':
        out[name] = f.value !== 0n;
        break;
      case 'string':
        out[name] = text(f.value, name);
        break;
      case 'bytes':
        out[name] = f.value;
        break;
      case 'rbytes':
        out[name].push(f.value);
        break;
      case 'rmsg':
        out[name].push(decodeMessage(f.value, sub));
        break;
      case 'map': {
        const e = decodeMessage(f.value, S.mapEntry);
        out[name].set(e.key, e.value);
        break;
      }
      case 'msg':
        if (oneof) {
          if (!out[oneof] || out[oneof].name !== name) out[oneof] = { name, value: emptyOf(sub) };
          decodeMessage(f.value, sub, out[oneof].value);
        } else {
          out[name] = decodeMessage(f.value, sub, out[name] ?? emptyOf(sub));
        }
        break;
      default:
        throw new DecodeError(`schema type ${type}`);
    }
  }
  return out;
}

function text(bytes, name) {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new DecodeError(`field ${name} is not UTF-8`);
  }
}

function varintBytes(n) {
  let v = BigInt.asUintN(64, BigInt(n));
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function concat(parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function lenDelimited(no, bytes) {
  return concat([Uint8Array.from([...varintBytes((no << 3) | 2), ...varintBytes(bytes.length)]), bytes]);
}

/**
 * Encodes `value` as `schema` the way prost does: fields in number order, scalars and bytes
 * left out at their default, a message present iff not null, repeated fields and map entries in
 * the order given (map entries leave out an empty key or value).
 */
export function encodeMessage(value, schema) {
  const parts = [];
  const numbers = Object.keys(schema).map(Number).sort((a, b) => a - b);
  for (const no of numbers) {
    const [name, type, sub, oneof] = schema[no];
    if (oneof) {
      if (value[oneof]?.name === name) parts.push(lenDelimited(no, encodeMessage(value[oneof].value, sub)));
      continue;
    }
    const v = value[name];
    switch (type) {
      case 'uint32':
      case 'uint64':
      case 'int64':
        if (v !== undefined && BigInt(v) !== 0n) {
          parts.push(Uint8Array.from([...varintBytes(no << 3), ...varintBytes(v)]));
        }
        break;
      case 'bool':
        if (v) parts.push(Uint8Array.from([...varintBytes(no << 3), 1]));
        break;
      case 'string':
        if (v) parts.push(lenDelimited(no, utf8Encoder.encode(v)));
        break;
      case 'bytes':
        if (v && v.length) parts.push(lenDelimited(no, v));
        break;
      case 'rbytes':
        for (const b of v ?? []) parts.push(lenDelimited(no, b));
        break;
      case 'rmsg':
        for (const m of v ?? []) parts.push(lenDelimited(no, encodeMessage(m, sub)));
        break;
      case 'map':
        for (const [key, val] of v ?? []) parts.push(lenDelimited(no, encodeMessage({ key, value: val }, S.mapEntry)));
        break;
      case 'msg':
        if (v) parts.push(lenDelimited(no, encodeMessage(v, sub)));
        break;
      default:
        throw new DecodeError(`schema type ${type}`);
    }
  }
  return concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/** Lowercase hex of bytes. */
export function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Bytes of hex text (either case); throws on anything else. */
export function fromHex(text) {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new Error('not hex');
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function sameBytes(a, b) {
  return a.length === b.length && compareBytes(a, b) === 0;
}

function compareText(a, b) {
  return compareBytes(utf8Encoder.encode(a), utf8Encoder.encode(b));
}

function tagged(tag, bytes) {
  return concat([utf8Encoder.encode(tag), Uint8Array.of(0), bytes]);
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

/** Whether a committee signature is valid under the signature rule (`ed25519Verdict`). */
export async function verifyEd25519(key, signature, message) {
  return (await ed25519Verdict(key, signature, message)).ok;
}

// ---------------------------------------------------------------------------------------------
// Content rules shared by the charter and decisions.

const COUNTRIES = new Set(
  ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR ' +
    'BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ ' +
    'EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW ' +
    'GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY ' +
    'KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV ' +
    'MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY ' +
    'QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG ' +
    'TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ' +
    'ZM ZW').split(' '),
);

/** An upper-case ISO 3166-1 alpha-2 code (as the node's `is_country_code` knows them) or HUB. */
export function isMemberCode(code) {
  return code === 'HUB' || COUNTRIES.has(code);
}

const LANGTAG = new RegExp(
  '^(?:' +
    '(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})' + // language, extlang
    '(?:-[a-z]{4})?' + // script
    '(?:-(?:[a-z]{2}|[0-9]{3}))?' + // region
    '(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*' + // variants
    '(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*' + // extensions
    '(?:-x(?:-[a-z0-9]{1,8})+)?' + // private use
    '|x(?:-[a-z0-9]{1,8})+' +
    '|en-gb-oed|i-(?:ami|bnn|default|enochian|hak|klingon|lux|mingo|navajo|pwn|tao|tay|tsu)' +
    '|sgn-(?:be-fr|be-nl|ch-de)|art-lojban|cel-gaulish|no-(?:bok|nyn)|zh-(?:guoyu|hakka|min|min-nan|xiang)' +
    ')$',
  'i',
);

/** A well-formed BCP 47 language tag (RFC 5646 syntax). */
export function isLanguageTag(tag) {
  return typeof tag === 'string' && LANGTAG.test(tag);
}

/** The node's `check_names`: at least one entry, BCP 47 tags unique ignoring case, no blank. */
function namesProblem(map) {
  if (!map || map.size === 0) return 'no name given';
  const seen = new Set();
  for (const [tag, name] of map) {
    if (!isLanguageTag(tag)) return `${JSON.stringify(tag)} is not a BCP 47 language tag`;
    if (seen.has(tag.toLowerCase())) return `language ${JSON.stringify(tag)} appears twice`;
    seen.add(tag.toLowerCase());
    if (isBlank(name)) return `the ${tag} name is blank`;
  }
  return null;
}

/** Empty or only Unicode White_Space (as Rust's `str::trim().is_empty()`). */
function isBlank(s) {
  return /^\p{White_Space}*$/u.test(s);
}

// ---------------------------------------------------------------------------------------------
// Vocabularies (PROTOCOL §3.1), checked as `protocol::vocabulary::Vocabulary::check` does.

const VOCABULARY_MAX_ENTRIES = 4096;
const VOCABULARY_MAX_CODE_BYTES = 64;
const VOCABULARY_MAX_NAME_BYTES = 512;
const VOCABULARY_NAME_LANGUAGES = ['en', 'ru', 'kk'];

function isSlug(s) {
  return s.length > 0 && utf8Encoder.encode(s).length <= VOCABULARY_MAX_CODE_BYTES
    && s.split('-').every((w) => /^[a-z0-9]+$/.test(w));
}

function isIndicatorCode(s) {
  if (utf8Encoder.encode(s).length > VOCABULARY_MAX_CODE_BYTES) return false;
  const at = s.indexOf(':');
  return at >= 0 && isSlug(s.slice(0, at)) && isSlug(s.slice(at + 1));
}

function entryNamesProblem(map) {
  for (const lang of VOCABULARY_NAME_LANGUAGES) if (!map.has(lang)) return `no ${lang} name`;
  const p = namesProblem(map);
  if (p) return p;
  for (const [tag, name] of map) {
    const n = utf8Encoder.encode(name).length;
    if (n > VOCABULARY_MAX_NAME_BYTES) return `the ${tag} name is ${n} bytes, the limit is ${VOCABULARY_MAX_NAME_BYTES}`;
  }
  return null;
}

/** An empty vocabulary (what a charter without one has). */
export function emptyVocabulary() {
  return { topics: [], reform_areas: [], indicators: [] };
}

function vocabularyIsEmpty(v) {
  return v.topics.length === 0 && v.reform_areas.length === 0 && v.indicators.length === 0;
}

/** The first problem of a decoded vocabulary, or null. */
export function vocabularyProblem(v) {
  for (const list of ['topics', 'reform_areas']) {
    if (v[list].length > VOCABULARY_MAX_ENTRIES) return `vocabulary.${list} has ${v[list].length} entries, the limit is ${VOCABULARY_MAX_ENTRIES}`;
    const seen = new Set();
    for (const t of v[list]) {
      if (!isSlug(t.slug)) return `vocabulary.${list}: ${JSON.stringify(t.slug)} is not a valid slug (a-z, 0-9, single hyphens)`;
      if (seen.has(t.slug)) return `vocabulary.${list}: ${JSON.stringify(t.slug)} appears twice`;
      seen.add(t.slug);
      const p = entryNamesProblem(t.name?.text ?? new Map());
      if (p) return `vocabulary.${list}: ${t.slug}: name: ${p}`;
    }
  }
  if (v.indicators.length > VOCABULARY_MAX_ENTRIES) return `vocabulary.indicators has ${v.indicators.length} entries, the limit is ${VOCABULARY_MAX_ENTRIES}`;
  const areas = new Set(v.reform_areas.map((t) => t.slug));
  const seen = new Set();
  for (const i of v.indicators) {
    if (!isIndicatorCode(i.code)) return `vocabulary.indicators: ${JSON.stringify(i.code)} is not a valid indicator code (<namespace>:<slug>, lower case)`;
    if (seen.has(i.code)) return `vocabulary.indicators: ${JSON.stringify(i.code)} appears twice`;
    seen.add(i.code);
    const p = entryNamesProblem(i.name?.text ?? new Map());
    if (p) return `vocabulary.indicators: ${i.code}: name: ${p}`;
    if (!isSlug(i.unit)) return `vocabulary.indicators: ${i.code}: unit ${JSON.stringify(i.unit)} is not a lower-case slug`;
    if (!areas.has(i.reform_area)) return `vocabulary.indicators: ${i.code}: reform area ${JSON.stringify(i.reform_area)} is not one of the reform areas`;
  }
  return null;
}

/** `v` with `additions` appended, or `{problem}` (as `Vocabulary::extended`). */
export function extendVocabulary(v, additions) {
  if (vocabularyIsEmpty(additions)) return { problem: 'the vocabulary amendment adds no entry' };
  for (const [list, key] of [['topics', 'slug'], ['reform_areas', 'slug'], ['indicators', 'code']]) {
    const have = new Set(v[list].map((e) => e[key]));
    const again = additions[list].find((e) => have.has(e[key]));
    if (again) return { problem: `vocabulary.${list}: ${JSON.stringify(again[key])} is already in the vocabulary; entries are never redefined` };
  }
  const out = {
    topics: [...v.topics, ...additions.topics],
    reform_areas: [...v.reform_areas, ...additions.reform_areas],
    indicators: [...v.indicators, ...additions.indicators],
  };
  const p = vocabularyProblem(out);
  return p ? { problem: p } : { vocabulary: out };
}

const LIMIT_RANGES = [
  ['max_record_bytes', 1024n, 4n * 1024n * 1024n],
  ['max_clock_skew_secs', 1n, 86400n],
  ['max_short_text_bytes', 16n, 65536n],
  ['max_summary_bytes', 64n, 1024n * 1024n],
  ['max_body_bytes', 64n, 4n * 1024n * 1024n],
  ['max_list_items', 1n, 10000n],
  ['max_languages', 1n, 1000n],
  ['max_url_bytes', 16n, 65536n],
  // 0 (or absent): no rate limit.
  ['max_records_per_hour', 0n, 1000000n],
];

/** The limits a charter without a `limits` field gets (the node's `Limits::DEFAULT`). */
const DEFAULT_LIMITS = {
  max_record_bytes: 256n * 1024n,
  max_clock_skew_secs: 300n,
  max_short_text_bytes: 512n,
  max_summary_bytes: 4096n,
  max_body_bytes: 64n * 1024n,
  max_list_items: 32n,
  max_languages: 16n,
  max_url_bytes: 2048n,
  max_records_per_hour: 1000n,
};

function limitsProblem(l) {
  for (const [name, min, max] of LIMIT_RANGES) {
    const v = BigInt(l[name] ?? 0n);
    if (v < min || v > max) return `limit ${name} = ${v} is out of range ${min}..=${max}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The charter.

/**
 * Checks a decoded `Charter` the way the node's `CharterDoc::to_proto` does and builds its
 * canonical form. Returns `{canonical}` or `{check, args}` naming the failed check:
 * `charter-keys` (a weak, torsion or malformed key; args `who`, `problem`) or `charter-content`
 * (args `detail`).
 */
export function canonicalCharter(c) {
  const fail = (check, args) => ({ check, args });
  if (c.version !== 1n) return fail('charter-content', { detail: `version ${c.version} is not supported` });
  const name = c.name?.text ?? new Map();
  if (name.size === 0) return fail('charter-content', { detail: 'no network name' });
  const np = namesProblem(name);
  if (np) return fail('charter-content', { detail: `network name: ${np}` });
  const limits = c.limits ?? { ...DEFAULT_LIMITS };
  const lp = limitsProblem(limits);
  if (lp) return fail('charter-content', { detail: lp });
  if (c.members.length === 0) return fail('charter-content', { detail: 'no member' });
  const keys = new Map();
  for (const m of c.members) {
    if (!isMemberCode(m.code)) return fail('charter-content', { detail: `member code ${JSON.stringify(m.code)}` });
    const problem = keyProblem(m.publishing_key);
    if (problem) return fail('charter-keys', { who: m.code, key: toHex(m.publishing_key), problem });
    const hex = toHex(m.publishing_key);
    if (keys.has(hex)) return fail('charter-content', { detail: `member ${m.code}: same publishing key as member ${keys.get(hex)}` });
    keys.set(hex, m.code);
    const mp = namesProblem(m.name?.text);
    if (mp) return fail('charter-content', { detail: `member ${m.code}: name: ${mp}` });
  }
  const members = [...c.members].sort((a, b) => compareText(a.code, b.code));
  for (let i = 1; i < members.length; i++) {
    if (members[i].code === members[i - 1].code) {
      return fail('charter-content', { detail: `member ${members[i].code} appears twice` });
    }
  }
  const committee = c.committee ?? { keys: [], quorum: 0n };
  for (const k of committee.keys) {
    const problem = keyProblem(k);
    if (problem) return fail('charter-keys', { who: 'committee', key: toHex(k), problem });
  }
  const sortedKeys = [...committee.keys].sort(compareBytes);
  for (let i = 1; i < sortedKeys.length; i++) {
    if (sameBytes(sortedKeys[i], sortedKeys[i - 1])) {
      return fail('charter-content', { detail: `committee key ${toHex(sortedKeys[i])} listed twice` });
    }
  }
  if (committee.quorum === 0n || committee.quorum > BigInt(sortedKeys.length)) {
    return fail('charter-content', { detail: `quorum ${committee.quorum} is impossible with ${sortedKeys.length} committee keys` });
  }
  const vocabulary = c.vocabulary ?? emptyVocabulary();
  const vp = vocabularyProblem(vocabulary);
  if (vp) return fail('charter-content', { detail: vp });
  const sortedMap = (map) => new Map([...map].sort((a, b) => compareText(a[0], b[0])));
  const term = (t) => ({ slug: t.slug, name: { text: sortedMap(t.name?.text ?? new Map()) } });
  return {
    canonical: {
      version: c.version,
      name: { text: sortedMap(name) },
      members: members.map((m) => ({
        code: m.code,
        name: { text: sortedMap(m.name.text) },
        publishing_key: m.publishing_key,
      })),
      committee: { keys: sortedKeys, quorum: committee.quorum },
      limits,
      vocabulary: vocabularyIsEmpty(vocabulary) ? null : {
        topics: vocabulary.topics.map(term),
        reform_areas: vocabulary.reform_areas.map(term),
        indicators: vocabulary.indicators.map((i) => ({ ...i, name: { text: sortedMap(i.name?.text ?? new Map()) } })),
      },
    },
  };
}

/** The canonical bytes of a charter (for tests and tools; `establishTrust` checks them). */
export function charterBytes(c) {
  const r = canonicalCharter(c);
  if (!r.canonical) throw new DecodeError(`not a valid charter: ${r.check} ${JSON.stringify(r.args)}`);
  return encodeMessage(r.canonical, S.charter);
}

/**
 * The distinct committee signers over `message`, in order; the first signature that does not
 * count is `{problem, key}`: `not-committee`, `duplicate` or `bad` (as the node's
 * `committee_signers`).
 */
async function committeeSigners(signatures, committee, message) {
  const signers = [];
  for (const s of signatures) {
    const key = toHex(s.key);
    if (!committee.includes(key)) return { problem: 'not-committee', key };
    if (signers.includes(key)) return { problem: 'duplicate', key };
    if (!(await verifyEd25519(s.key, s.signature, message))) return { problem: 'bad', key };
    signers.push(key);
  }
  return { signers };
}

// ---------------------------------------------------------------------------------------------
// Decisions (PROTOCOL §7).

const MAX_DECISION_BYTES = 64 * 1024;

/** ErasureGround numbers (record.proto) to their names. */
const ERASURE_GROUNDS = { 1: 'consent_withdrawn', 2: 'erasure_request', 3: 'unlawful', 4: 'order' };

function actionOf(d) {
  const a = d.action;
  if (!a) return { problem: 'action: missing' };
  const v = a.value;
  const code = (field) => (isMemberCode(v.code) ? null : `${field}: not an ISO 3166-1 alpha-2 code or HUB`);
  const key = (bytes, field) => {
    const p = keyProblem(bytes);
    return p ? { keyProblem: p, field, key: toHex(bytes) } : null;
  };
  switch (a.name) {
    case 'admit': {
      const names = v.name?.text ?? new Map();
      if (names.size === 0 || [...names].some(([t, n]) => !isLanguageTag(t) || n.trim() === '')) {
        return { problem: 'admit.name: needs names with BCP 47 language tags' };
      }
      const bad = code('admit.code') ?? null;
      if (bad) return { problem: bad };
      const k = key(v.publishing_key, 'admit.publishing_key');
      if (k) return k;
      return { action: { type: 'admit', code: v.code, key: toHex(v.publishing_key) } };
    }
    case 'suspend': {
      const bad = code('suspend.code');
      if (bad) return { problem: bad };
      return { action: { type: 'suspend', code: v.code, lastSeq: v.last_seq } };
    }
    case 'reinstate': {
      const bad = code('reinstate.code');
      if (bad) return { problem: bad };
      return { action: { type: 'reinstate', code: v.code } };
    }
    case 'rotate_key': {
      const bad = code('rotate_key.code');
      if (bad) return { problem: bad };
      const k = key(v.new_key, 'rotate_key.new_key');
      if (k) return k;
      return { action: { type: 'rotate_key', code: v.code, newKey: toHex(v.new_key), oldKeyLastSeq: v.old_key_last_seq } };
    }
    case 'revoke_key': {
      const k = key(v.key, 'revoke_key.key');
      if (k) return k;
      return { action: { type: 'revoke_key', key: toHex(v.key), lastValidSeq: v.last_valid_seq } };
    }
    case 'amend_limits': {
      if (!v.limits) return { problem: 'amend_limits.limits: missing' };
      const lp = limitsProblem(v.limits);
      if (lp) return { problem: `amend_limits.limits: ${lp}` };
      return { action: { type: 'amend_limits', limits: v.limits, effectiveFrom: v.effective_from } };
    }
    case 'amend_vocabulary': {
      if (!v.additions || vocabularyIsEmpty(v.additions)) return { problem: 'amend_vocabulary.additions: missing or empty' };
      return { action: { type: 'amend_vocabulary', additions: v.additions } };
    }
    case 'erase_records': {
      // As the node's Action::from_proto: at least one id, each 32 bytes, none twice, a known ground.
      if (v.records.length === 0) return { problem: 'erase_records.records: missing or empty' };
      const ids = v.records.map(toHex);
      if (v.records.some((r) => r.length !== 32)) return { problem: 'erase_records.records: a record id is not 32 bytes' };
      if (new Set(ids).size !== ids.length) return { problem: 'erase_records.records: a record is listed twice' };
      const ground = ERASURE_GROUNDS[Number(v.ground)];
      if (!ground) return { problem: 'erase_records.ground: missing or unknown' };
      return { action: { type: 'erase_records', records: ids, ground } };
    }
    default:
      return { problem: 'action: missing' };
  }
}

/**
 * Checks one encoded `SignedDecision` against a verified charter (`networkId` hex, `committee`
 * hex keys, `quorum`), as the node's `verify_decision`. Returns `{decision}` or `{problem,
 * args}` with problem one of `decode`, `network`, `field`, `key` (a weak or torsion key, args
 * `problem`, `key`), `not-committee`, `duplicate`, `bad`, `quorum`; `args.seq` and `args.id`
 * say which decision when known.
 */
export async function checkDecision(bytes, charter) {
  if (bytes.length > MAX_DECISION_BYTES) return { problem: 'field', args: { detail: `${bytes.length} bytes` } };
  let signed;
  let d;
  try {
    signed = decodeMessage(bytes, S.signedDecision);
    d = decodeMessage(signed.decision, S.decision);
  } catch (e) {
    return { problem: 'decode', args: { detail: e.message } };
  }
  const id = toHex(await sha256(signed.decision));
  const where = { seq: String(d.seq), id };
  if (toHex(d.network_id) !== charter.networkId) {
    return { problem: 'network', args: { ...where, other: toHex(d.network_id) } };
  }
  if (d.seq === 0n) return { problem: 'field', args: { ...where, detail: 'seq starts at 1' } };
  if (d.seq === 1n && d.prev.length !== 0) return { problem: 'field', args: { ...where, detail: 'prev must be empty at seq 1' } };
  if (d.seq !== 1n && d.prev.length !== 32) return { problem: 'field', args: { ...where, detail: 'prev must be 32 bytes' } };
  const reason = d.reason?.text ?? new Map();
  if ([...reason.keys()].some((t) => !isLanguageTag(t))) {
    return { problem: 'field', args: { ...where, detail: 'reason: language tags must be BCP 47' } };
  }
  const a = actionOf(d);
  if (a.keyProblem) return { problem: 'key', args: { ...where, problem: a.keyProblem, key: a.key, detail: a.field } };
  if (a.problem) return { problem: 'field', args: { ...where, detail: a.problem } };
  const s = await committeeSigners(signed.signatures, charter.committee, tagged('hubnet-decision-v1', signed.decision));
  if (s.problem) return { problem: s.problem, args: { ...where, key: s.key } };
  if (BigInt(s.signers.length) < charter.quorum) {
    return { problem: 'quorum', args: { ...where, have: s.signers.length, need: String(charter.quorum) } };
  }
  return {
    decision: {
      id,
      seq: d.seq,
      prev: d.seq === 1n ? null : toHex(d.prev),
      createdAt: d.created_at,
      action: a.action,
      signers: s.signers,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The governance state (hubnet_protocol::governance::Governance::recompute), keys only matter
// here, but every action is applied so that void decisions are void for the same reasons.

/** Each limit as a BigInt, in LIMIT_RANGES order, as Rust compares them: an absent field is 0,
 * and the rate limit's 0 (no limit) allows the most. */
function limitsOrder(l) {
  return LIMIT_RANGES.map(([name]) => {
    const v = BigInt(l[name] ?? 0n);
    return name === 'max_records_per_hour' && v === 0n ? 1n << 64n : v;
  });
}

/**
 * The state the charter's members plus a set of verified decisions produce: `members` (Map code
 * -> {code, suspended, suspendedBy, keys: [{key, grantedBy, rotatedAfter, rotatedBy,
 * revokedAfter, revokedBy, suspendedAfter, suspendedBy}]}; the `...By` are decisions), `keys` (Map key hex -> code), `status` (Map id ->
 * {status: applied | void | off_chain, reason}), `chain` (decisions in seq order), `erased` (Map
 * record id hex -> {id, seq, createdAt, ground} of the first applied `EraseRecords` that names it).
 */
export function governanceState(genesisMembers, genesisLimits, decisions, genesisVocabulary = emptyVocabulary()) {
  const members = new Map();
  const keys = new Map();
  for (const m of genesisMembers) {
    members.set(m.code, { code: m.code, suspended: false, suspendedBy: null, keys: [period(m.key, null)] });
    keys.set(m.key, m.code);
  }
  let limits = [{ from: null, limits: genesisLimits }];
  let vocabulary = genesisVocabulary;
  const erased = new Map();
  const byId = new Map();
  for (const d of decisions) if (!byId.has(d.id)) byId.set(d.id, d);
  const bySeq = new Map();
  for (const d of [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const k = d.seq.toString();
    if (!bySeq.has(k)) bySeq.set(k, []);
    bySeq.get(k).push(d);
  }
  const status = new Map();
  const chain = [];
  let prev = null;
  for (let seq = 1n; ; seq++) {
    const d = (bySeq.get(seq.toString()) ?? []).find((x) => x.prev === prev);
    if (!d) break;
    const voidReason = apply(d);
    status.set(d.id, voidReason === null ? { status: 'applied' } : { status: 'void', reason: voidReason });
    chain.push(d);
    prev = d.id;
  }
  for (const id of byId.keys()) if (!status.has(id)) status.set(id, { status: 'off_chain' });
  return { members, keys, status, chain, limits, vocabulary, erased };

  function period(key, by) {
    return {
      key, grantedBy: by,
      rotatedAfter: null, rotatedBy: null,
      revokedAfter: null, revokedBy: null,
      suspendedAfter: null, suspendedBy: null,
    };
  }

  function apply(d) {
    const a = d.action;
    const member = (code) => members.get(code) ?? null;
    switch (a.type) {
      case 'admit': {
        if (members.has(a.code)) return `${a.code} is already a member`;
        if (keys.has(a.key)) return `key ${a.key} is (or was) ${keys.get(a.key)}'s`;
        keys.set(a.key, a.code);
        members.set(a.code, { code: a.code, suspended: false, suspendedBy: null, keys: [period(a.key, d)] });
        return null;
      }
      case 'suspend': {
        const m = member(a.code);
        if (!m) return `${a.code} is not a member`;
        if (m.suspended) return `${a.code} is already suspended`;
        m.suspended = true;
        m.suspendedBy = d;
        Object.assign(m.keys[m.keys.length - 1], { suspendedAfter: a.lastSeq, suspendedBy: d });
        return null;
      }
      case 'reinstate': {
        const m = member(a.code);
        if (!m) return `${a.code} is not a member`;
        if (!m.suspended) return `${a.code} is not suspended`;
        m.suspended = false;
        m.suspendedBy = null;
        Object.assign(m.keys[m.keys.length - 1], { suspendedAfter: null, suspendedBy: null });
        return null;
      }
      case 'rotate_key': {
        if (keys.has(a.newKey)) return `key ${a.newKey} is (or was) ${keys.get(a.newKey)}'s`;
        const m = member(a.code);
        if (!m) return `${a.code} is not a member`;
        const current = m.keys[m.keys.length - 1];
        current.rotatedAfter = a.oldKeyLastSeq;
        current.rotatedBy = d;
        const fresh = period(a.newKey, d);
        if (m.suspended) Object.assign(fresh, { suspendedAfter: 0n, suspendedBy: m.suspendedBy });
        m.keys.push(fresh);
        keys.set(a.newKey, a.code);
        return null;
      }
      case 'revoke_key': {
        const code = keys.get(a.key);
        if (code === undefined) return `key ${a.key} is no member's`;
        const p = members.get(code).keys.find((x) => x.key === a.key);
        if (p && (p.revokedAfter === null || a.lastValidSeq < p.revokedAfter)) {
          p.revokedAfter = a.lastValidSeq;
          p.revokedBy = d;
        }
        return null;
      }
      case 'amend_limits': {
        const last = limits[limits.length - 1];
        if (last.from !== null && a.effectiveFrom < last.from) {
          return `effective_from is before the limits in force (from ${last.from} ms)`;
        }
        const old = limitsOrder(last.limits);
        const lowered = limitsOrder(a.limits).some((v, i) => v < old[i]);
        if (lowered) return 'limits may only be raised';
        limits = [...limits, { from: a.effectiveFrom, limits: a.limits }];
        return null;
      }
      case 'amend_vocabulary': {
        const r = extendVocabulary(vocabulary, a.additions);
        if (r.problem) return r.problem;
        vocabulary = r.vocabulary;
        return null;
      }
      case 'erase_records': {
        // Never void (PROTOCOL §7.6); a record already erased keeps its first decision.
        for (const r of a.records) {
          if (!erased.has(r)) erased.set(r, { id: d.id, seq: d.seq, createdAt: d.createdAt, ground: a.ground });
        }
        return null;
      }
      default:
        return 'unknown action';
    }
  }
}

/**
 * Judges a record's author key (hex) at `seq` (BigInt) against a governance state: `{member,
 * ok, lastSeq, limitedBy}`. `member` is the code of the member that holds or held the key (null:
 * no member's key), `lastSeq` the key's last valid seq (null: no limit), and `limitedBy` the
 * decision that set that bound (`{id, seq, type}`; type rotate_key, revoke_key or suspend).
 */
export function judgeKey(state, authorHex, seq) {
  const code = state.keys.get(String(authorHex).toLowerCase());
  if (code === undefined) return { member: null, ok: false, lastSeq: null, limitedBy: null };
  const m = state.members.get(code);
  const p = m.keys.find((x) => x.key === String(authorHex).toLowerCase());
  const bounds = [
    [p.rotatedAfter, p.rotatedBy],
    [p.revokedAfter, p.revokedBy],
    [p.suspendedAfter, p.suspendedBy],
  ].filter(([v]) => v !== null);
  bounds.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const [lastSeq, by] = bounds[0] ?? [null, null];
  return {
    member: code,
    ok: lastSeq === null || seq <= lastSeq,
    lastSeq,
    limitedBy: by ? { id: by.id, seq: String(by.seq), type: by.action.type } : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Everything together.

/**
 * Derives the trusted facts from a bundle's bytes (`GET /api/v1/bundle?records=false`).
 *
 * Returns `{ok, checks, networkId, committee, quorum, members, state, decisionCount}`; `checks`
 * is the list of named checks in order (`{key, ok, args}`, keys `bundle`, `charter-decode`,
 * `charter-keys`, `charter-content`, `charter-canonical`, `charter-signatures`, `decisions`),
 * ending at the first that fails. `ok` is true iff every check passed; `networkId` (hex) is set
 * once the charter's canonical bytes are known, signed or not.
 */
export async function establishTrust(bundleBytes) {
  const checks = [];
  const out = { ok: false, checks, networkId: null, committee: [], quorum: 0n, members: [], state: null, decisionCount: 0 };
  const add = (key, ok, args = {}) => {
    checks.push({ key, ok, args });
    return ok;
  };
  let bundle;
  let signed;
  let charter;
  try {
    bundle = decodeMessage(bundleBytes, S.bundle);
  } catch (e) {
    add('bundle', false, { detail: e.message });
    return out;
  }
  if (bundle.version !== 1n || bundle.charter.length !== 1) {
    add('bundle', false, { detail: bundle.charter.length !== 1 ? 'charter' : `version ${bundle.version}` });
    return out;
  }
  try {
    signed = decodeMessage(bundle.charter[0], S.signedCharter);
    charter = decodeMessage(signed.charter, S.charter);
  } catch (e) {
    add('charter-decode', false, { detail: e.message });
    return out;
  }
  add('charter-decode', true);
  const c = canonicalCharter(charter);
  if (!c.canonical) {
    if (c.check !== 'charter-keys') add('charter-keys', true);
    add(c.check, false, c.args);
    return out;
  }
  add('charter-keys', true, { n: charter.members.length + (charter.committee?.keys.length ?? 0) });
  add('charter-content', true);
  const reencoded = encodeMessage(c.canonical, S.charter);
  out.networkId = toHex(await sha256(signed.charter));
  if (!add('charter-canonical', sameBytes(reencoded, signed.charter), { id: out.networkId })) return out;
  const committee = c.canonical.committee.keys.map(toHex);
  const quorum = c.canonical.committee.quorum;
  const s = await committeeSigners(signed.signatures, committee, tagged('hubnet-charter-v1', signed.charter));
  if (s.problem) {
    add('charter-signatures', false, { reason: s.problem, key: s.key });
    return out;
  }
  const sigArgs = { have: s.signers.length, n: committee.length, q: String(quorum) };
  if (BigInt(s.signers.length) < quorum) {
    add('charter-signatures', false, { reason: 'quorum', ...sigArgs });
    return out;
  }
  add('charter-signatures', true, sigArgs);
  out.committee = committee;
  out.quorum = quorum;
  out.members = c.canonical.members.map((m) => ({ code: m.code, key: toHex(m.publishing_key) }));
  const verified = [];
  let failed = null;
  for (const bytes of bundle.decisions) {
    const r = await checkDecision(bytes, { networkId: out.networkId, committee, quorum });
    if (r.decision) verified.push(r.decision);
    else if (!failed) failed = r;
  }
  out.state = governanceState(out.members, c.canonical.limits, verified, c.canonical.vocabulary ?? emptyVocabulary());
  out.decisionCount = bundle.decisions.length;
  if (failed) {
    add('decisions', false, { reason: failed.problem, ...failed.args });
    return out;
  }
  const counts = { applied: 0, void: 0, off_chain: 0 };
  for (const st of out.state.status.values()) counts[st.status]++;
  add('decisions', true, { n: verified.length, ...counts });
  out.ok = true;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pinning: the first network id trusted, kept in the browser (per origin).

/** The localStorage key of the pinned network id. */
export const PIN_KEY = 'hubnet.pinned-network-id';

/** The pinned network id (hex) in `storage`, or null; undefined when storage cannot be read. */
export function readPin(storage) {
  try {
    const v = storage.getItem(PIN_KEY);
    return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? v : null;
  } catch {
    return undefined;
  }
}

/** Pins `networkId` (hex) in `storage`; false if the browser refused. */
export function writePin(storage, networkId) {
  try {
    if (networkId === null) storage.removeItem(PIN_KEY);
    else storage.setItem(PIN_KEY, networkId.toLowerCase());
    return true;
  } catch {
    return false;
  }
}

/**
 * The pin check for a trust result: pins the network id on first use (a charter that passed
 * every check and nothing pinned yet) unless `pinFirst` is false. Returns the check `{key: 'pin',
 * ok, args}` with `args.state` one of `match`, `new` (pinned now), `mismatch`, `unavailable` (no
 * storage), `untrusted` (the charter failed, nothing pinned), `none` (nothing pinned, and
 * `pinFirst` false).
 */
export function pinCheck(trust, storage, { pinFirst = true } = {}) {
  const id = trust.networkId;
  const pinned = readPin(storage);
  if (pinned === undefined) return { key: 'pin', ok: true, args: { state: 'unavailable', id } };
  if (pinned === null) {
    if (!trust.ok) return { key: 'pin', ok: true, args: { state: 'untrusted', id } };
    if (!pinFirst) return { key: 'pin', ok: true, args: { state: 'none', id } };
    const stored = writePin(storage, id);
    return { key: 'pin', ok: true, args: { state: stored ? 'new' : 'unavailable', id } };
  }
  if (id !== null && pinned === id) return { key: 'pin', ok: true, args: { state: 'match', id, pinned } };
  return { key: 'pin', ok: false, args: { state: 'mismatch', id, pinned } };
}
