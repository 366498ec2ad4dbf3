// A tiny protobuf reader for the hubnet wire messages (docs/PROTOCOL.md, record.proto), so the
// browser can read the signed bytes itself instead of trusting the node's decoded JSON.
// Only what the UI needs: varints, length-delimited fields and fixed64 (the doubles of reform
// profiles and of programme results); fixed32 and groups are skipped. `readFields` is the one wire reader; trust.js builds
// its schema decoder on it.

/** Thrown for bytes that are not a well-formed protobuf message. */
export class ProtoError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads every field in order: [{no, wire, value}] (value: BigInt for varints, bytes for
 * length-delimited fields, `{fixed64: Uint8Array(8)}` for fixed64 fields, null for the fixed32
 * and group fields it skips). Strict: a truncated, over-long or ill-nested message is a
 * ProtoError.
 */
export function readFields(bytes) {
  const out = [];
  let i = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (let n = 0; n < 10; n++) {
      if (i >= bytes.length) throw new ProtoError('truncated varint');
      const b = bytes[i++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtoError('varint longer than 10 bytes');
  };
  const skipGroup = (no) => {
    for (;;) {
      if (i >= bytes.length) throw new ProtoError('unterminated group');
      const key = varint();
      const wire = Number(key & 7n);
      const inner = Number(key >> 3n);
      if (wire === 4) {
        if (inner !== no) throw new ProtoError('mismatched end of group');
        return;
      }
      skip(wire, inner);
    }
  };
  const skip = (wire, no) => {
    switch (wire) {
      case 0:
        varint();
        return;
      case 1:
        if (i + 8 > bytes.length) throw new ProtoError('truncated fixed64');
        i += 8;
        return;
      case 2: {
        const len = varint();
        if (len > BigInt(bytes.length - i)) throw new ProtoError('length beyond the end');
        i += Number(len);
        return;
      }
      case 3:
        skipGroup(no);
        return;
      case 5:
        if (i + 4 > bytes.length) throw new ProtoError('truncated fixed32');
        i += 4;
        return;
      default:
        throw new ProtoError(`wire type ${wire}`);
    }
  };
  while (i < bytes.length) {
    const key = varint();
    if (key > 0xffffffffn) throw new ProtoError('field key too large');
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (no === 0) throw new ProtoError('field number 0');
    if (wire === 0) {
      out.push({ no, wire, value: varint() });
    } else if (wire === 2) {
      const len = varint();
      if (len > BigInt(bytes.length - i)) throw new ProtoError('length beyond the end');
      out.push({ no, wire, value: bytes.subarray(i, i + Number(len)) });
      i += Number(len);
    } else if (wire === 1) {
      if (i + 8 > bytes.length) throw new ProtoError('truncated fixed64');
      // Wrapped, so that no helper can take the eight bytes for a length-delimited field.
      out.push({ no, wire, value: { fixed64: bytes.subarray(i, i + 8) } });
      i += 8;
    } else {
      skip(wire, no);
      out.push({ no, wire, value: null });
    }
  }
  return out;
}

/**
 * Splits a message into its fields: a Map from field number to the list of occurrences, each
 * a BigInt (varint), a Uint8Array (length-delimited) or `{fixed64}`; fixed32 fields are skipped.
 * `position` maps each field number to the index of its last occurrence among all fields (to
 * resolve a oneof: the last one wins).
 */
export function fields(bytes) {
  const out = new Map();
  out.position = new Map();
  let count = 0;
  for (const { no, value } of readFields(bytes)) {
    if (value === null) continue;
    if (!out.has(no)) out.set(no, []);
    out.get(no).push(value);
    out.position.set(no, count++);
  }
  return out;
}

function kindOf(v) {
  if (typeof v === 'bigint') return 'varint';
  if (v instanceof Uint8Array) return 'bytes';
  return 'fixed64';
}

/** The last occurrence of a varint field (proto3: last one wins), or 0n. */
function uint(f, no) {
  const all = f.get(no) || [];
  const v = all[all.length - 1];
  if (v === undefined) return 0n;
  if (kindOf(v) !== 'varint') throw new ProtoError(`field ${no} is not a varint`);
  return v;
}

/** The last occurrence of a double (fixed64, little-endian IEEE 754) field, or 0. */
export function double(f, no) {
  const all = f.get(no) || [];
  const v = all[all.length - 1];
  if (v === undefined) return 0;
  if (kindOf(v) !== 'fixed64') throw new ProtoError(`field ${no} is not a fixed64`);
  return new DataView(v.fixed64.buffer, v.fixed64.byteOffset, 8).getFloat64(0, true);
}

/** The last occurrence of a bytes field, or an empty array. */
function bytesField(f, no) {
  const all = f.get(no) || [];
  const v = all[all.length - 1];
  if (v === undefined) return new Uint8Array(0);
  if (kindOf(v) !== 'bytes') throw new ProtoError(`field ${no} is not length-delimited`);
  return v;
}

function str(f, no) {
  try {
    return utf8.decode(bytesField(f, no));
  } catch (e) {
    if (e instanceof ProtoError) throw e;
    throw new ProtoError(`field ${no} is not UTF-8`);
  }
}

function strList(f, no) {
  return (f.get(no) || []).map((v) => {
    if (kindOf(v) !== 'bytes') throw new ProtoError(`field ${no} is not length-delimited`);
    try {
      return utf8.decode(v);
    } catch {
      throw new ProtoError(`field ${no} is not UTF-8`);
    }
  });
}

/** An embedded message field: every occurrence merged (concatenated), or null when absent. */
function message(f, no) {
  const all = f.get(no);
  if (!all || all.length === 0) return null;
  for (const v of all) {
    if (kindOf(v) !== 'bytes') throw new ProtoError(`field ${no} is not length-delimited`);
  }
  return fields(joined(all));
}

/** Byte arrays concatenated (occurrences of one message field, merged as prost merges them). */
function joined(all) {
  if (all.length === 1) return all[0];
  const total = all.reduce((n, v) => n + v.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const v of all) {
    out.set(v, at);
    at += v.length;
  }
  return out;
}

/** LocalizedText { map<string,string> text = 1; } as a plain object, or null when absent. */
function localized(f, no) {
  const m = message(f, no);
  if (m === null) return null;
  const out = {};
  for (const entry of m.get(1) || []) {
    if (kindOf(entry) !== 'bytes') throw new ProtoError('a map entry is not length-delimited');
    const e = fields(entry);
    out[str(e, 1)] = str(e, 2);
  }
  return out;
}

export const KINDS = {
  1: 'practice', 2: 'event', 3: 'amendment', 4: 'retraction', 5: 'reform_profile', 6: 'institution', 7: 'expert',
  8: 'erasure', 9: 'programme', 10: 'confirmation',
};
const EVENT_STATUS = { 1: 'scheduled', 2: 'postponed', 3: 'cancelled' };
const EVENT_TYPE = { 1: 'conference', 2: 'training', 3: 'webinar', 4: 'study-visit', 5: 'call' };
/** ReformStatus numbers to the draft's names. */
export const REFORM_STATUS = {
  1: 'planned', 2: 'adopted', 3: 'in-implementation', 4: 'completed', 5: 'suspended', 6: 'reversed',
};

/** InstitutionType numbers to the draft's names. */
export const INSTITUTION_TYPE = {
  1: 'ministry', 2: 'civil_service_agency', 3: 'academy_or_school', 4: 'university', 5: 'international_organisation',
  6: 'other',
};
/** ExpertFormat numbers to the draft's names. */
export const EXPERT_FORMAT = {
  1: 'peer_review', 2: 'expert_mission', 3: 'study_visit', 4: 'speaker', 5: 'mentoring', 6: 'workshop',
};
/** ConsentScope numbers to the draft's names. */
export const CONSENT_SCOPE = { 1: 'hub_network_all_members' };
/** ErasureGround numbers to the draft's names. */
export const ERASURE_GROUND = { 1: 'consent_withdrawn', 2: 'erasure_request', 3: 'unlawful', 4: 'order' };

/**
 * Decodes a SignedRecord: `{header, body, signature, erasure}`, each a Uint8Array (empty when
 * absent). `erasure` is the encoded SignedRecord of the erasure that erased the record, on an
 * erased record only (docs/PROTOCOL.md §2.1).
 */
export function decodeSigned(bytes) {
  const f = fields(bytes);
  return { header: bytesField(f, 1), body: bytesField(f, 2), signature: bytesField(f, 3), erasure: bytesField(f, 4) };
}

/** Decodes a RecordHeader. Byte fields stay Uint8Array; seq and body_len are BigInt. */
export function decodeHeader(bytes) {
  const f = fields(bytes);
  const createdAt = BigInt.asIntN(64, uint(f, 5));
  const kindNo = Number(uint(f, 6));
  return {
    networkId: bytesField(f, 1),
    author: bytesField(f, 2),
    seq: uint(f, 3),
    prev: bytesField(f, 4),
    createdAt,
    kindNo,
    kind: KINDS[kindNo] || null,
    bodySha256: bytesField(f, 7),
    bodyLen: uint(f, 8),
  };
}

/** A repeated embedded message field: each occurrence decoded on its own. */
function messages(f, no) {
  return (f.get(no) || []).map((v) => {
    if (kindOf(v) !== 'bytes') throw new ProtoError(`field ${no} is not length-delimited`);
    return fields(v);
  });
}

/** Practice: the fields the UI shows, in the draft JSON's names. */
function practice(f) {
  const period = message(f, 6);
  return {
    kind: 'practice',
    title: localized(f, 1),
    summary: localized(f, 2),
    body: localized(f, 3),
    country: str(f, 4),
    topics: strList(f, 5),
    reform_period: period ? { start: str(period, 1), end: str(period, 2) } : null,
    results: localized(f, 8),
    links: messages(f, 10).map((l) => ({ url: str(l, 1), title: localized(l, 2) })),
    license: str(f, 12),
  };
}

/** Event: the fields the UI shows, in the draft JSON's names. */
function event(f) {
  const place = message(f, 7);
  return {
    kind: 'event',
    title: localized(f, 1),
    description: localized(f, 2),
    event_type: EVENT_TYPE[Number(uint(f, 3))] || null,
    start: str(f, 4),
    end: str(f, 5),
    time_zone: str(f, 6),
    place: place
      ? { name: localized(place, 1), address: localized(place, 2), country: str(place, 3) }
      : null,
    online_url: str(f, 8),
    organiser: localized(f, 9),
    languages: strList(f, 10),
    registration_url: str(f, 11),
    registration_deadline: str(f, 12),
    status: EVENT_STATUS[Number(uint(f, 13))] || null,
    topics: strList(f, 14),
    country: str(f, 15),
  };
}

/** Period { start = 1; end = 2; } as `{start, end}`, or null when absent. */
function period(f, no) {
  const p = message(f, no);
  return p ? { start: str(p, 1), end: str(p, 2) } : null;
}

/** Measure { double value = 1; uint32 year = 2; } as `{value, year}`, or null when absent. */
function measure(f, no) {
  const m = message(f, no);
  return m ? { value: double(m, 1), year: Number(BigInt.asUintN(32, uint(m, 2))) } : null;
}

/** IndicatorValue: `value` and `year` only when the Measure is there. */
function indicatorValue(f) {
  const out = { code: str(f, 1) };
  const m = measure(f, 2);
  if (m) {
    out.value = m.value;
    out.year = m.year;
  }
  const source = message(f, 5);
  out.not_available = localized(f, 3);
  out.unit = str(f, 4);
  out.source = source ? { name: localized(source, 1), url: str(source, 2), license: str(source, 3) } : null;
  out.baseline = measure(f, 6);
  out.target = measure(f, 7);
  return out;
}

/** Reform profile: every field, in the draft JSON's names (ids as hex; `previous` '' if none). */
function reformProfile(f) {
  return {
    kind: 'reform_profile',
    title: localized(f, 1),
    country: str(f, 2),
    as_of: str(f, 3),
    period: period(f, 4),
    reform_areas: strList(f, 5),
    reforms: messages(f, 6).map((r) => {
      const act = message(r, 4);
      return {
        title: localized(r, 1),
        status: REFORM_STATUS[Number(uint(r, 2))] || null,
        reform_area: str(r, 3),
        legal_act: act ? { name: localized(act, 1), number: str(act, 2), date: str(act, 3), url: str(act, 4) } : null,
        lead_institution: localized(r, 5),
        period: period(r, 6),
        objectives: localized(r, 7),
      };
    }),
    indicators: messages(f, 7).map(indicatorValue),
    summary: localized(f, 8),
    findings: localized(f, 9),
    challenges: localized(f, 10),
    next_steps: localized(f, 11),
    evidence: (f.get(12) || []).map((v) => {
      if (kindOf(v) !== 'bytes') throw new ProtoError('field 12 is not length-delimited');
      return hex(v);
    }),
    previous: hex(bytesField(f, 13)),
    license: str(f, 14),
    sample: uint(f, 15) !== 0n,
  };
}

/** The enum value of a varint field (proto3 open enums: an unknown number stays a number). */
function enumOf(f, no) {
  return Number(BigInt.asIntN(32, uint(f, no)));
}

/** A oneof of a record id (`idNo`) or a LocalizedText name (`nameNo`), as the draft's `{id}` or
 * `{name}`; null when neither is present. The last field present wins, as prost reads a oneof. */
function organisation(f, idNo, nameNo) {
  const at = (no) => (f.position.has(no) ? f.position.get(no) : -1);
  if (at(idNo) < 0 && at(nameNo) < 0) return null;
  if (at(idNo) > at(nameNo)) return { id: hex(bytesField(f, idNo)) };
  return { name: localized(f, nameNo) ?? {} };
}

/** Institution: every field, in the draft JSON's names (`parent` as hex, '' if none). */
function institution(f) {
  const type = enumOf(f, 2);
  return {
    kind: 'institution',
    name: localized(f, 1),
    type: INSTITUTION_TYPE[type] ?? null,
    country: str(f, 3),
    parent: hex(bytesField(f, 4)),
    mandate: localized(f, 5),
    website: str(f, 6),
    wikidata: str(f, 7),
    ror: str(f, 8),
    topics: strList(f, 9),
    languages: strList(f, 10),
    contact_email: str(f, 11),
    sample: uint(f, 12) !== 0n,
  };
}

/** Repeated enum values (packed or not), as numbers. */
function enumList(f, no) {
  const out = [];
  for (const v of f.get(no) || []) {
    if (typeof v === 'bigint') out.push(Number(BigInt.asIntN(32, v)));
    else if (v instanceof Uint8Array) {
      // Packed: the varints back to back.
      for (const { value } of readFields(packedAsFields(v))) out.push(Number(BigInt.asIntN(32, value)));
    } else throw new ProtoError(`field ${no} is not a varint`);
  }
  return out;
}

/** Packed varints `v` as a message of field 1 varints, so `readFields` can read them. */
function packedAsFields(v) {
  const out = [];
  let start = true;
  for (const b of v) {
    if (start) out.push(0x08);
    out.push(b);
    start = (b & 0x80) === 0;
  }
  if (!start) throw new ProtoError('truncated packed varint');
  return Uint8Array.from(out);
}

/** Expert: every field, in the draft JSON's names (formats by name; unknown numbers left out,
 * as the node's draft view leaves them out). */
function expert(f) {
  const consent = message(f, 12);
  return {
    kind: 'expert',
    name: localized(f, 1),
    position: localized(f, 2),
    institution: organisation(f, 3, 4),
    affiliations: messages(f, 5).map((a) => ({
      organisation: organisation(a, 1, 2) ?? {},
      role: localized(a, 3),
      start: str(a, 4),
      end: str(a, 5),
    })),
    topics: strList(f, 6),
    languages: strList(f, 7),
    formats: enumList(f, 8).map((n) => EXPERT_FORMAT[n]).filter(Boolean),
    works: messages(f, 9).map((l) => ({ url: str(l, 1), title: localized(l, 2) })),
    public_official: uint(f, 10) !== 0n,
    contact_email: str(f, 11),
    consent: consent
      ? { date: str(consent, 1), scope: CONSENT_SCOPE[enumOf(consent, 2)] ?? null, document_sha256: hex(bytesField(consent, 3)) }
      : null,
    reconfirm_by: str(f, 13),
    country: str(f, 14),
    summary: localized(f, 15),
    sample: uint(f, 16) !== 0n,
  };
}

/** Erasure: the target, the amendments erased with it (hex ids) and the ground's name. */
function erasure(f) {
  return {
    kind: 'erasure',
    target: bytesField(f, 1),
    amendments: (f.get(2) || []).map((v) => {
      if (kindOf(v) !== 'bytes') throw new ProtoError('field 2 is not length-delimited');
      return hex(v);
    }),
    ground: ERASURE_GROUND[enumOf(f, 3)] ?? null,
  };
}

/** Programme enums: numbers to the draft's names (docs/DRAFTS.md, protocol/src/kinds/programme.rs). */
export const PROGRAMME_STATUS = {
  1: 'pipeline', 2: 'implementation', 3: 'completion', 4: 'post_completion', 5: 'cancelled', 6: 'suspended',
};
export const PARTICIPANT_ROLE = { 1: 'lead', 2: 'funding', 3: 'implementing', 4: 'beneficiary', 5: 'accountable' };
export const CONTRIBUTION_TYPE = { 1: 'cash', 2: 'in_kind' };
export const BUDGET_STATUS = { 1: 'indicative', 2: 'committed' };
export const RESULT_TYPE = { 1: 'output', 2: 'outcome', 3: 'impact' };
export const INDICATOR_MEASURE = { 1: 'unit', 2: 'percentage' };
export const RELATION_TYPE = { 1: 'parent', 2: 'child', 3: 'sibling' };

/** A repeated bytes field as lowercase hex strings. */
function hexList(f, no) {
  return (f.get(no) || []).map((v) => {
    if (kindOf(v) !== 'bytes') throw new ProtoError(`field ${no} is not length-delimited`);
    return hex(v);
  });
}

/** A LocalizedText as `[[lang, text], …]` sorted by language (a map has no order), or null. */
function sortedText(f, no) {
  const m = localized(f, no);
  return m === null ? null : Object.keys(m).sort().map((k) => [k, m[k]]);
}

/**
 * The programme's terms (participants and budget: what `protocol::kinds::programme::
 * terms_digest` hashes) as a string: two versions have the same terms exactly when their decoded
 * participants and budget lines are equal, as Rust compares the SHA-256 of their re-encoding.
 * Enums stay numbers here, so that no two different signed values read alike.
 */
function termsOf(f) {
  const participants = messages(f, 4).map((p) => {
    const at = (no) => (p.position.has(no) ? p.position.get(no) : -1);
    let who = null;
    if (at(1) >= 0 || at(2) >= 0) who = at(2) > at(1) ? ['i', hex(bytesField(p, 2))] : ['m', str(p, 1)];
    const contributions = messages(p, 4).map((c) => [enumOf(c, 1), str(c, 2), str(c, 3), sortedText(c, 4)]);
    return [who, enumList(p, 3), contributions];
  });
  const budget = messages(f, 12).map((b) => [str(b, 1), str(b, 2), str(b, 3), str(b, 4), enumOf(b, 5)]);
  return JSON.stringify([participants, budget]);
}

/** ResultPeriod: `actual` only when present (proto3 `optional double`: 0 is a value). */
function resultPeriod(p) {
  const out = { start: str(p, 1), end: str(p, 2), target: double(p, 3) };
  if (p.has(4)) out.actual = double(p, 4);
  return out;
}

/**
 * Programme: every field, in the draft JSON's names (ids as hex; enums by name, null when the
 * number is unknown; roles of unknown numbers left out, as the node's draft view leaves them
 * out; strings '' and lists [] when absent). `terms` is not a draft field: see `termsOf`.
 */
function programme(f) {
  return {
    kind: 'programme',
    title: localized(f, 1),
    description: localized(f, 2),
    objectives: localized(f, 3),
    participants: messages(f, 4).map((p) => {
      const at = (no) => (p.position.has(no) ? p.position.get(no) : -1);
      const out = {};
      if (at(2) > at(1)) out.institution = hex(bytesField(p, 2));
      else if (at(1) >= 0) out.member = str(p, 1);
      out.roles = enumList(p, 3).map((n) => PARTICIPANT_ROLE[n]).filter(Boolean);
      out.contributions = messages(p, 4).map((c) => ({
        type: CONTRIBUTION_TYPE[enumOf(c, 1)] ?? null,
        amount: str(c, 2),
        currency: str(c, 3),
        description: localized(c, 4),
      }));
      return out;
    }),
    status: PROGRAMME_STATUS[enumOf(f, 5)] ?? null,
    planned_start: str(f, 6),
    planned_end: str(f, 7),
    actual_start: str(f, 8),
    actual_end: str(f, 9),
    countries: strList(f, 10),
    topics: strList(f, 11),
    budget: messages(f, 12).map((b) => ({
      period_start: str(b, 1),
      period_end: str(b, 2),
      value: str(b, 3),
      currency: str(b, 4),
      status: BUDGET_STATUS[enumOf(b, 5)] ?? null,
    })),
    results: messages(f, 13).map((r) => ({
      type: RESULT_TYPE[enumOf(r, 1)] ?? null,
      title: localized(r, 2),
      indicators: messages(r, 3).map((x) => ({
        title: localized(x, 1),
        measure: INDICATOR_MEASURE[enumOf(x, 2)] ?? null,
        ascending: uint(x, 3) !== 0n,
        baseline: measure(x, 4),
        periods: messages(x, 5).map(resultPeriod),
      })),
    })),
    related: messages(f, 14).map((r) => ({ id: hex(bytesField(r, 1)), relation: RELATION_TYPE[enumOf(r, 2)] ?? null })),
    practice_ids: hexList(f, 15),
    event_ids: hexList(f, 16),
    reform_profile_ids: hexList(f, 17),
    institution_ids: hexList(f, 18),
    expert_ids: hexList(f, 19),
    endorsed_by: hex(bytesField(f, 20)),
    sample: uint(f, 21) !== 0n,
    terms: termsOf(f),
  };
}

/** Confirmation: the programme and the version confirmed (hex), and the note. */
function confirmation(f) {
  return {
    kind: 'confirmation',
    programme: hex(bytesField(f, 1)),
    version: hex(bytesField(f, 2)),
    note: localized(f, 3),
  };
}

/** Decodes a record body by the header's kind number. */
export function decodeBody(kindNo, bytes) {
  const f = fields(bytes);
  switch (kindNo) {
    case 1:
      return practice(f);
    case 2:
      return event(f);
    case 3: {
      // The content oneof, as prost reads it: the last field present wins, merged with the
      // occurrences of that same field just before it (another field of the oneof resets it).
      const decoders = { 3: practice, 4: event, 5: reformProfile, 6: institution, 7: expert, 8: programme };
      let last = null;
      let run = [];
      for (const { no, value } of readFields(bytes)) {
        if (!decoders[no]) continue;
        if (!(value instanceof Uint8Array)) throw new ProtoError(`field ${no} is not length-delimited`);
        if (no !== last) run = [];
        last = no;
        run.push(value);
      }
      const content = last === null ? null : decoders[last](fields(joined(run)));
      return { kind: 'amendment', target: bytesField(f, 1), note: localized(f, 2), content };
    }
    case 4:
      return { kind: 'retraction', target: bytesField(f, 1), reason: localized(f, 2) };
    case 5:
      return reformProfile(f);
    case 6:
      return institution(f);
    case 7:
      return expert(f);
    case 8:
      return erasure(f);
    case 9:
      return programme(f);
    case 10:
      return confirmation(f);
    default:
      throw new ProtoError(`unknown record kind ${kindNo}`);
  }
}

/** Lowercase hex of bytes. */
export function hex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Standard base64 (RFC 4648, with padding) to bytes; throws on anything else. */
export function fromBase64(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new ProtoError('not standard base64');
  }
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
