// The outbox: compose a certified mail, the mails sent from this mailbox, and one mail's evidence
// timeline, live while it moves (polling), every item verified in this browser against the
// network CA. The bundle the timeline was verified from is the one the download button saves.
import { FLAVOURS, api, apiJson, el, header, poll, relative, requireSession, showError, when } from './app.js';
import { decodeEvidence, readBundle, readCa, verifyBundle } from './verifier.js';

requireSession();
header('/ui/outbox');

const FINAL = new Set(['DELIVERED', 'NOT_DELIVERED', 'LOST', 'NOT_POSTED']);
const KIND_NAMES = {
  COP: 'Certificate of Posting (COP)', SUBMISSION_REJECTION: 'Submission refused', RELAY_ACK: 'Relay acknowledgement',
  RELAY_REJECTION: 'Relay refused', COD: 'Certificate of Delivery (COD), signed by the recipient',
  RECIPIENT_REFUSAL: 'Refused by the recipient', CONTENT_HANDOVER: 'Content handed over',
  ROD_N: 'Delivery notice of the recipient\'s server (ROD_n)', ROD: 'Report of Delivery (ROD)',
  NDN: 'Non-delivery notice (NDN)', COMPENSATION_CLAIM: 'LOST: compensation claim',
};
const STATUS_TEXT = {
  SUBMITTED: 'Submitted: waiting for your mail server\'s Certificate of Posting.',
  IN_DELIVERY: 'Posted: on its way to the recipient, who decides whether to sign for it.',
  AWAITING_COLLECTION: 'The recipient has been notified and has not signed yet.',
  DELIVERED: 'Delivered: the recipient signed for it, and your server confirmed it.',
  NOT_DELIVERED: 'Not delivered: a server on the route signed why.',
  LOST: 'Lost: no verdict by the deadline plus grace; the claim below is your proof.',
  NOT_POSTED: 'Not posted: your server never answered, so nothing was certified.',
};

// The protocol's reason codes (ReasonCode in evidence.proto; the API's Status.reason lists the same),
// in words. A code missing here is still shown by its name.
const REASON_TEXT = {
  UNKNOWN_RECIPIENT: 'the recipient\'s server knows no such mailbox',
  UNKNOWN_DOMAIN: 'no server serves the recipient\'s domain',
  DEADLINE_NOT_ACCEPTABLE: 'the deadline was too near or too far for your server\'s policy',
  MESSAGE_TOO_LARGE: 'the mail is larger than your server accepts',
  RELAY_UNREACHABLE: 'a server on the route could not reach the next one in time',
  RELAY_REJECTED: 'a server on the route refused to pass the mail on',
  RECIPIENT_DID_NOT_ACKNOWLEDGE: 'the recipient did not sign for it in time',
  RECIPIENT_REFUSED: 'the recipient refused it',
  DEADLINE_EXPIRED: 'the deadline passed before it could be delivered',
  INVALID_SIGNATURE: 'a signature on the way did not verify',
  POLICY_VIOLATION: 'a server on the route found it against its policy',
  TECHNICAL_MALFUNCTION: 'a server on the route failed',
};

for (const flavour of ['CEM', 'NSR', 'IP']) {
  document.getElementById('flavour-' + flavour.toLowerCase() + '-text').textContent = FLAVOURS[flavour];
}

const deadline = document.getElementById('deadline');
const inAnHour = new Date(Date.now() + 3600_000);
deadline.value = new Date(inAnHour.getTime() - inAnHour.getTimezoneOffset() * 60_000).toISOString().substring(0, 16);

const subjects = JSON.parse(sessionStorage.getItem('certmail.subjects') || '{}');
let caPromise = null;

/** The network CA this node serves (/ui/ca.pem): the evidence is checked against it. */
function networkCa() {
  caPromise = caPromise || fetch('/ui/ca.pem', { cache: 'no-store' }).then(async response => {
    if (!response.ok) {
      throw new Error('the node did not serve its CA certificate (/ui/ca.pem): ' + response.status);
    }
    return readCa(new Uint8Array(await response.arrayBuffer()));
  });
  return caPromise.catch(e => {
    caPromise = null;
    throw e;
  });
}

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return 'ui-' + Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
}

document.getElementById('compose').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.target;
  const button = document.getElementById('send');
  const line = document.getElementById('compose-status');
  const due = new Date(form.deadline.value);
  if (Number.isNaN(due.getTime())) {
    line.textContent = 'Give a deadline (date and time).';
    line.hidden = false;
    return;
  }
  button.disabled = true;
  line.textContent = 'Sending…';
  line.hidden = false;
  try {
    const key = randomKey();
    const status = await apiJson('outbox', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body: JSON.stringify({ recipient: form.recipient.value.trim().toLowerCase(), subject: form.subject.value,
        body: form.body.value, flavour: form.flavour.value, deadline: due.toISOString() }),
    });
    subjects[status.submissionId] = form.subject.value;
    sessionStorage.setItem('certmail.subjects', JSON.stringify(subjects));
    line.textContent = 'Submitted as ' + status.submissionId + '.';
    form.subject.value = '';
    form.body.value = '';
    list.now();
    select(status.submissionId, true);
  } catch (e) {
    line.textContent = 'Not sent: ' + e.message;
  } finally {
    button.disabled = false;
  }
});

// ---- the list ----

const list = poll(async () => {
  const answer = await apiJson('outbox');
  const sent = document.getElementById('sent');
  const entries = answer.entries.map(entry => ({ entry,
    cop: entry.evidence.map(item => decodeEvidence(item.base64)).find(item => item && item.kind === 'COP') }));
  // Newest first: by the COP's issue time; mails still waiting for their COP on top.
  const postedAt = ({ cop }) => cop ? Number(cop.statement.issuedAtMillis) : Number.MAX_SAFE_INTEGER;
  entries.sort((a, b) => postedAt(b) - postedAt(a));
  sent.replaceChildren(...entries.map(({ entry, cop }) => {
    const recipient = cop ? cop.statement.recipient : '';
    const subject = subjects[entry.submissionId];
    return el('li', { class: 'mail', dataset: { submission: entry.submissionId, status: entry.status } },
      el('a', { href: '#' + entry.submissionId, onclick: event => {
        event.preventDefault();
        select(entry.submissionId, true);
      } },
        el('span', { class: 'badge ' + entry.status.toLowerCase() }, entry.status.replace('_', ' ')),
        ' ', recipient ? 'to ' + recipient : entry.submissionId,
        subject ? el('span', { class: 'subject' }, ' — ' + subject) : null,
        cop ? el('span', { class: 'hint' }, ' · ' + enumFlavour(cop) + ' · due ', when(cop.statement.deadlineMillis))
          : null));
  }));
  document.getElementById('sent-empty').hidden = entries.length > 0;
  sent.dataset.loaded = 'true';
  document.getElementById('sent-truncated').hidden = !answer.truncated;
}, 8000);

function enumFlavour(cop) {
  return ['', 'CEM', 'NSR', 'IP'][cop.statement.flavour] || '';
}

// ---- one mail ----

let detail = null;

/** Shows one mail; scroll: bring its panel into view (the user picked it), focusing its title for keyboards. */
function select(submissionId, scroll = false) {
  if (location.hash !== '#' + submissionId) {
    history.replaceState(null, '', '#' + submissionId);
  }
  if (detail) {
    detail.stop();
  }
  detail = follow(submissionId);
  if (scroll) {
    const title = document.getElementById('detail-title');
    title.scrollIntoView({ block: 'start' });
    title.focus({ preventScroll: true });
  }
}

window.addEventListener('hashchange', () => {
  if (location.hash.length > 1) {
    select(decodeURIComponent(location.hash.substring(1)));
  }
});
if (location.hash.length > 1) {
  select(decodeURIComponent(location.hash.substring(1)));
}

/** Follows one submission: its status every second until final, its bundle verified whenever it changes. */
function follow(submissionId) {
  let stopped = false;
  let shown = '';
  let timer = null;
  const path = 'outbox/' + encodeURIComponent(submissionId);
  const panel = document.getElementById('detail');
  panel.hidden = false;
  document.getElementById('detail-title').textContent = subjects[submissionId]
    ? 'Mail “' + subjects[submissionId] + '”' : 'Mail ' + submissionId;
  document.getElementById('timeline').replaceChildren();
  const tick = async () => {
    if (stopped) {
      return;
    }
    let final = false;
    try {
      const status = await apiJson(path);
      final = FINAL.has(status.status);
      const fingerprint = status.status + '|' + status.evidence.length + '|' + status.lateEvidence.length;
      if (fingerprint !== shown) {
        const moved = shown !== '';
        shown = fingerprint;
        await render(submissionId, status);
        if (moved) {
          list.now();
        }
      }
    } catch (e) {
      if (showError(e) === 'token') {
        return;
      }
    }
    timer = setTimeout(tick, final ? 10000 : 1000);
  };
  tick();
  return { stop: () => { stopped = true; clearTimeout(timer); } };
}

async function render(submissionId, status) {
  const decoded = status.evidence.map(item => decodeEvidence(item.base64));
  const cop = decoded.find(item => item && item.kind === 'COP');
  const facts = document.getElementById('detail-facts');
  facts.replaceChildren(
    el('dt', {}, 'Submission'), el('dd', {}, submissionId),
    el('dt', {}, 'Label'), el('dd', {}, status.label || '(none yet)'),
    ...(cop ? [el('dt', {}, 'To'), el('dd', {}, cop.statement.recipient),
      el('dt', {}, 'Flavour'), el('dd', {}, enumFlavour(cop)),
      el('dt', {}, 'Deadline'), el('dd', {}, when(cop.statement.deadlineMillis), ' (',
        relative(Number(cop.statement.deadlineMillis)), ')'),
      el('dt', {}, 'Route'), el('dd', {}, cop.statement.route.join(' → '))] : []));
  document.getElementById('mail-status').textContent = status.status;
  document.getElementById('mail-reason').textContent = (STATUS_TEXT[status.status] || '')
    + (status.reason ? ' Reason: ' + status.reason + (REASON_TEXT[status.reason] ? ', ' + REASON_TEXT[status.reason] : '')
      + '.' : '');
  renderSteps(status, decoded);

  const timeline = document.getElementById('timeline');
  const items = decoded.map((item, i) => timelineItem(i + 1, item, false));
  const late = status.lateEvidence.map((raw, i) => timelineItem(status.evidence.length + i + 1, decodeEvidence(raw.base64),
    true));
  timeline.replaceChildren(...items, ...late);
  await verifyTimeline(submissionId, status, items);
}

function renderSteps(status, decoded) {
  const kinds = new Set(decoded.filter(Boolean).map(item => item.kind));
  const outcome = status.status === 'DELIVERED' ? 'Delivered (COD and ROD)'
    : status.status === 'NOT_DELIVERED' ? (status.label ? 'Not delivered (NDN)' : 'Refused by your server')
      : status.status === 'LOST' ? 'Lost (claim)' : status.status === 'NOT_POSTED' ? 'Not posted' : 'Verdict';
  const steps = [
    ['Submitted', true],
    ['Posted (COP)', kinds.has('COP')],
    ['With the recipient', kinds.has('COP') && status.status !== 'SUBMITTED'],
    [outcome, FINAL.has(status.status)],
  ];
  document.getElementById('steps').replaceChildren(...steps.map(([text, done], i) =>
    el('li', { class: done ? 'done' : '', 'aria-current': done && !(steps[i + 1] && steps[i + 1][1]) ? 'step' : null },
      text)));
}

function timelineItem(number, item, late) {
  if (!item) {
    return el('li', { class: 'evidence-item', dataset: { verified: 'false' } }, 'Item ' + number + ' is unreadable.');
  }
  const statement = item.statement;
  return el('li', { class: 'evidence-item' + (late ? ' late' : ''), dataset: { kind: item.kind, verified: 'pending' } },
    el('div', { class: 'evidence-head' },
      el('strong', {}, KIND_NAMES[item.kind] || item.kind), ' ',
      el('span', { class: 'mark', 'aria-live': 'polite' }, late ? 'late: not in the bundle' : 'checking…')),
    el('div', { class: 'hint' }, 'signed by ', el('span', { class: 'signer' }, statement.issuer), ' · ',
      when(statement.issuedAtMillis), ' · ETSI ', item.etsiEvent),
    el('p', { class: 'proves' }, 'Proves: ' + item.proves));
}

/** Fetches the bundle, verifies it here against the network CA, marks each item and arms the download. */
async function verifyTimeline(submissionId, status, items) {
  const summary = document.getElementById('verify-summary');
  const download = document.getElementById('download');
  if (status.evidence.length === 0) {
    summary.textContent = 'No evidence yet.';
    download.hidden = true;
    return;
  }
  try {
    const response = await api('outbox/' + encodeURIComponent(submissionId) + '/bundle');
    const bytes = new Uint8Array(await response.arrayBuffer());
    const name = /filename="?([^";]+)"?/.exec(response.headers.get('Content-Disposition') || '');
    const report = await verifyBundle(readBundle(bytes, 'the bundle'), await networkCa());
    let verified = 0;
    report.items.forEach((result, i) => {
      const node = items[i];
      if (!node || !node.dataset.kind) {
        return;
      }
      const mark = node.querySelector('.mark');
      if (result.failure) {
        node.dataset.verified = 'false';
        mark.textContent = '✗ INVALID: ' + result.failure + ': ' + result.detail;
        mark.className = 'mark bad';
      } else {
        verified++;
        node.dataset.verified = 'true';
        mark.textContent = '✓ verified';
        mark.className = 'mark good';
      }
    });
    summary.textContent = verified + ' of ' + report.items.length + ' items verified in this browser against the'
      + ' network CA (' + report.caSubject + ')' + (report.bundleProblems.length ? '; ' + report.bundleProblems.join('; ')
      : '') + '.';
    if (download.href.startsWith('blob:')) {
      URL.revokeObjectURL(download.href);
    }
    download.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    download.download = name ? name[1] : submissionId + '.cmbundle';
    download.hidden = false;
  } catch (e) {
    summary.textContent = 'The evidence could not be checked here: ' + e.message;
  }
}
