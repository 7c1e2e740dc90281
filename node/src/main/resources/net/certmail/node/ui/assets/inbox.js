// The inbox: mails awaiting a decision (with a countdown to the last instant the recipient's
// server takes a receipt), accept or refuse, then the content; refused, expired and delivered
// mails marked. Cards are updated in place, so a reason being typed is never wiped by a refresh.
import { SIGNING_MEANS, apiJson, el, header, poll, relative, requireSession, showError, when } from './app.js';

requireSession();
header('/ui/inbox');

const STATUS = {
  AWAITING_DECISION: ['awaiting', 'Awaiting your decision'],
  EXPIRED: ['expired', 'Expired: the time to accept it has passed'],
  ACKNOWLEDGED: ['acknowledged', 'Receipt signed: the content is on its way'],
  RETRIEVED: ['delivered', 'Delivered: you signed the receipt and hold the content'],
  REFUSED: ['refused', 'Refused by you'],
};

const cards = new Map();
const contents = new Map();

function labelPath(label) {
  return 'inbox/' + label.split('/').map(encodeURIComponent).join('/');
}

poll(async () => {
  const answer = await apiJson('inbox');
  const entries = answer.entries.slice().sort((a, b) =>
    (a.status === 'AWAITING_DECISION' ? 0 : 1) - (b.status === 'AWAITING_DECISION' ? 0 : 1));
  const list = document.getElementById('mails');
  const seen = new Set();
  for (const entry of entries) {
    seen.add(entry.label);
    let card = cards.get(entry.label);
    const fingerprint = entry.status + '|' + entry.contentAvailable;
    if (!card) {
      card = { node: el('li', { class: 'card mail', dataset: { label: entry.label } }), fingerprint: '' };
      cards.set(entry.label, card);
    }
    if (card.fingerprint !== fingerprint) {
      card.fingerprint = fingerprint;
      await render(card.node, entry);
    }
    list.append(card.node);
  }
  for (const [label, card] of cards) {
    if (!seen.has(label)) {
      card.node.remove();
      cards.delete(label);
    }
  }
  document.getElementById('inbox-empty').hidden = entries.length > 0;
  document.getElementById('inbox-truncated').hidden = !answer.truncated;
}, 5000);

setInterval(() => {
  for (const node of document.querySelectorAll('[data-accept-until]')) {
    const until = Date.parse(node.dataset.acceptUntil);
    node.textContent = until > Date.now() ? 'Decide ' + relative(until) : 'The time to decide has passed';
  }
}, 1000);

async function render(node, entry) {
  const [css, text] = STATUS[entry.status] || ['', entry.status];
  node.dataset.status = entry.status;
  const parts = [
    el('div', { class: 'evidence-head' }, el('span', { class: 'badge ' + css }, text)),
    el('p', {}, 'From ', el('strong', {}, entry.sender), ' · ', entry.flavour, ' · delivered by ', entry.agent),
    el('p', { class: 'hint' }, 'Label ', el('code', {}, entry.label)),
  ];
  if (entry.status === 'AWAITING_DECISION') {
    const until = entry.acceptUntil;
    parts.push(el('p', { class: 'countdown', role: 'timer', 'data-accept-until': until || '' },
      until ? 'Decide ' + relative(Date.parse(until)) : ''));
    if (until) {
      parts.push(el('p', { class: 'hint' }, 'Last moment to accept: ', when(Date.parse(until))));
    }
    parts.push(el('p', { class: 'means' }, SIGNING_MEANS[entry.flavour] || ''));
  }
  if (entry.contentAvailable) {
    parts.push(await contentOf(entry));
  } else if (entry.flavour !== 'CEM' && entry.status === 'AWAITING_DECISION') {
    parts.push(el('p', { class: 'hint' }, 'The content is released to you once you accept (' + entry.flavour + ').'));
  }
  if (entry.status === 'AWAITING_DECISION') {
    parts.push(decision(entry));
  }
  node.replaceChildren(...parts);
}

async function contentOf(entry) {
  if (!contents.has(entry.label)) {
    try {
      contents.set(entry.label, await apiJson(labelPath(entry.label) + '/content'));
    } catch (e) {
      return el('p', { class: 'hint' }, 'The content is not available yet: ' + e.message);
    }
  }
  const content = contents.get(entry.label);
  return el('article', { class: 'content', 'aria-label': 'Content' },
    el('h3', {}, content.subject || '(no subject)'),
    el('pre', { class: 'body' }, content.body));
}

function decision(entry) {
  const reasonId = 'reason-' + entry.label.replace(/[^a-z0-9]/gi, '-');
  const reason = el('input', { id: reasonId, type: 'text', class: 'reason', placeholder: 'optional' });
  const act = async (what, button) => {
    button.disabled = true;
    try {
      await apiJson(labelPath(entry.label) + '/' + what, what === 'refuse'
        ? { method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ reason: reason.value }) }
        : { method: 'POST' });
      const card = cards.get(entry.label);
      card.fingerprint = '';
      const fresh = await apiJson(labelPath(entry.label));
      card.fingerprint = fresh.status + '|' + fresh.contentAvailable;
      await render(card.node, fresh);
    } catch (e) {
      showError(e);
      button.disabled = false;
    }
  };
  const accept = el('button', { type: 'button', class: 'accept' }, 'Accept and sign the receipt');
  accept.addEventListener('click', () => act('accept', accept));
  const refuse = el('button', { type: 'button', class: 'refuse secondary' }, 'Refuse');
  refuse.addEventListener('click', () => act('refuse', refuse));
  return el('div', { class: 'decision' }, accept,
    el('span', { class: 'refusal' }, el('label', { for: reasonId }, 'Reason for refusing'), reason, refuse));
}
