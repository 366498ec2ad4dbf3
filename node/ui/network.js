// The network page (`/network`, `/members`): this node, the charter's members with their keys,
// heads and fork flags, the live peers (those answering pings, with their last answer and round
// trip), the log heads and any fork evidence.

import { h, replace, getJson, errorBox, short, dataTable as table } from './dom.js';
import { t, pickText, fmtDateTime } from './i18n.js';
import { getMembers, getStatus, codeLabel } from './data.js';

export async function mount(main, state, ctx) {
  document.title = `${t('net.title')} · hubnet`;
  const nodeBox = h('section', { class: 'panel', 'aria-labelledby': 'node-h' }, h('h2', { id: 'node-h' }, t('net.node')), h('p', { class: 'loading' }, t('loading')));
  const membersBox = h('section', { class: 'panel', id: 'members', 'aria-labelledby': 'members-h' }, h('h2', { id: 'members-h' }, t('net.members')), h('p', { class: 'loading' }, t('loading')));
  const peersBox = h('section', { class: 'panel', id: 'peers', 'aria-labelledby': 'peers-h' }, h('h2', { id: 'peers-h' }, t('net.peers')), h('p', { class: 'loading' }, t('loading')));
  const headsBox = h('section', { class: 'panel', id: 'heads', 'aria-labelledby': 'heads-h' }, h('h2', { id: 'heads-h' }, t('net.heads')));
  main.append(h('h1', {}, t('net.title')), nodeBox, membersBox, peersBox, headsBox);

  const [status, members, peers] = await Promise.allSettled([
    getStatus({ fresh: true }),
    getMembers(),
    getJson('/api/v1/peers'),
  ]);
  if (!ctx.alive()) return;
  const s = status.status === 'fulfilled' ? status.value : null;

  // This node.
  if (s) {
    const name = pickText(s.network_name);
    const rows = [
      name ? [t('net.network_name'), h('span', { lang: name.lang }, name.text)] : null,
      [t('net.network_id'), h('code', { class: 'hex', 'data-testid': 'network-id' }, String(s.network_id ?? ''))],
      [t('net.peer_id'), h('code', { class: 'hex' }, String(s.peer_id ?? ''))],
      [t('net.member'), s.member ? codeLabel(s.member) : t('net.mirror')],
      s.version ? [t('net.version'), String(s.version)] : null,
      [t('net.record_count'), h('span', { 'data-testid': 'record-count' }, String(s.record_count ?? '?'))],
      [t('net.heads_digest'), h('code', { class: 'hex', 'data-testid': 'heads-digest' }, String(s.heads_digest ?? ''))],
    ].filter(Boolean);
    replace(nodeBox, nodeBox.firstChild, h('dl', { class: 'facts-list' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
  } else {
    replace(nodeBox, nodeBox.firstChild, errorBox(status.reason?.message ?? ''));
  }

  // Members.
  if (members.status === 'fulfilled') {
    const m = members.value;
    const flagged = new Set(Array.isArray(s?.flagged) ? s.flagged : []);
    const list = Array.isArray(m.members) ? m.members.filter((x) => x && typeof x === 'object') : [];
    const committee = Array.isArray(m.committee) ? m.committee : null;
    replace(
      membersBox,
      membersBox.firstChild,
      committee && m.quorum !== undefined
        ? h('p', {}, t('net.quorum', { q: m.quorum, n: committee.length }))
        : null,
      table(
        [t('net.code'), t('net.name'), t('net.key'), t('net.head'), t('net.state')],
        list.map((x) => {
          const name = pickText(x.name);
          const forked = x.flagged === true || flagged.has(x.code);
          const seq = x.head && typeof x.head === 'object' ? x.head.seq : null;
          return {
            attrs: { 'data-testid': 'members-row', 'data-code': String(x.code ?? ''), class: forked ? 'forked' : null },
            cells: [
              h('strong', {}, String(x.code ?? '')),
              name ? h('span', { lang: name.lang }, name.text) : '',
              h('code', { class: 'hex' }, String(x.publishing_key ?? '')),
              seq !== null && seq !== undefined
                ? x.head.id
                  ? h('a', { href: `/records/${x.head.id}` }, String(seq))
                  : String(seq)
                : h('span', { class: 'muted' }, t('net.no_records')),
              forked
                ? h('span', { class: 'badge danger', 'data-testid': 'member-fork' }, '⚠ ', t('net.forked'))
                : h('span', { class: 'muted' }, t('net.ok')),
            ],
          };
        }),
      ),
    );
    if (ctx.path.startsWith('/members')) membersBox.scrollIntoView();
  } else {
    replace(membersBox, membersBox.firstChild, errorBox(members.reason?.message ?? ''));
  }

  // Peers: /api/v1/peers, else the status's list.
  let peerList = null;
  if (peers.status === 'fulfilled' && Array.isArray(peers.value)) peerList = peers.value;
  else if (Array.isArray(s?.peers)) peerList = s.peers;
  if (peerList) {
    replace(
      peersBox,
      peersBox.firstChild,
      h('p', { class: 'muted' }, t('net.peers_note')),
      peerList.length === 0
        ? h('p', {}, t('net.no_peers'))
        : table(
          [t('net.peer_id'), t('net.address'), t('net.last_seen'), t('net.rtt'), t('net.score'), t('net.lag')],
          peerList.filter((p) => p && typeof p === 'object').map((p) => ({
            attrs: { 'data-testid': 'peers-row' },
            cells: [
              h('code', { class: 'hex' }, String(p.peer_id ?? '')),
              h('code', { class: 'hex' }, String(p.address ?? '')),
              lastSeen(p.last_seen_ms),
              typeof p.rtt_ms === 'number' ? `${p.rtt_ms.toFixed(1)} ms` : '—',
              typeof p.score === 'number' ? p.score.toFixed(2) : String(p.score ?? ''),
              lag(p),
            ],
          })),
        ),
    );
  } else {
    replace(peersBox, peersBox.firstChild, errorBox(peers.reason?.message ?? ''));
  }

  // Heads and forks.
  if (s) {
    const heads = Array.isArray(s.heads) ? s.heads.filter((x) => x && typeof x === 'object') : [];
    const forks = Array.isArray(s.forks) ? s.forks.filter((x) => x && typeof x === 'object') : [];
    replace(
      headsBox,
      headsBox.firstChild,
      table(
        [t('net.member'), t('net.seq'), t('net.id')],
        heads.map((x) => ({
          attrs: {},
          cells: [
            codeLabel(x.member || '') || h('code', {}, short(x.author, 16)),
            String(x.seq ?? ''),
            x.id ? h('a', { href: `/records/${x.id}` }, h('code', { class: 'hex' }, String(x.id))) : '',
          ],
        })),
      ),
      forks.length
        ? [
          h('h3', { class: 'danger-text' }, t('net.forks')),
          h('ul', { class: 'forks', 'data-testid': 'forks' }, forks.map((f) => h('li', {},
            t('net.fork_item', { member: f.member || short(f.author, 16), seq: f.seq ?? '?', n: Array.isArray(f.ids) ? f.ids.length : '?' }),
            Array.isArray(f.ids)
              ? h('ul', {}, f.ids.map((id) => h('li', {}, h('code', { class: 'hex' }, String(id)))))
              : null))),
        ]
        : null,
    );
  }
}

/** "3 s ago", with the date and time as a tooltip; the node's clock and the reader's may differ. */
function lastSeen(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  const n = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return h('time', { datetime: new Date(ms).toISOString(), title: fmtDateTime(ms), 'data-testid': 'peer-last-seen' }, t('net.seconds_ago', { n }));
}

function lag(p) {
  const behind = Number(p.behind);
  const ahead = Number(p.ahead);
  const parts = [];
  if (behind > 0) parts.push(t('net.behind', { n: behind }));
  if (ahead > 0) parts.push(t('net.ahead', { n: ahead }));
  if (parts.length) return parts.join(', ');
  if (p.behind !== undefined || p.ahead !== undefined) return t('net.in_sync');
  return '—';
}

