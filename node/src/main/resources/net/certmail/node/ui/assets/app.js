// What every signed-in page shares: the session (mailbox and token in sessionStorage: they leave
// with the tab, and never appear in a URL), calls to this node's API, and the error panels.

const MAILBOX = 'certmail.mailbox';
const TOKEN = 'certmail.token';

export function session() {
  const mailbox = sessionStorage.getItem(MAILBOX);
  const token = sessionStorage.getItem(TOKEN);
  return mailbox && token ? { mailbox, token } : null;
}

export function signIn(mailbox, token) {
  sessionStorage.setItem(MAILBOX, mailbox);
  sessionStorage.setItem(TOKEN, token);
}

export function signOut() {
  sessionStorage.removeItem(MAILBOX);
  sessionStorage.removeItem(TOKEN);
}

/** The session, or back to the sign-in page (which says why). */
export function requireSession() {
  const current = session();
  if (!current) {
    location.replace('/ui/?signed-out');
    throw new Error('not signed in');
  }
  return current;
}

/** An API answer that is not a success: its kind picks the error page a person sees. */
export class ApiError extends Error {
  constructor(kind, status, code, message) {
    super(message);
    this.kind = kind;
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls this node's API for the signed-in mailbox: path is below /v1/mailboxes/{mailbox}/.
 * Resolves with the Response when it is 2xx; rejects with an ApiError otherwise.
 */
export async function api(path, options = {}) {
  const { mailbox, token } = requireSession();
  const headers = Object.assign({ Authorization: 'Bearer ' + token }, options.headers || {});
  let response;
  try {
    response = await fetch('/v1/mailboxes/' + encodeURIComponent(mailbox) + '/' + path,
      Object.assign({}, options, { headers, cache: 'no-store', credentials: 'omit' }));
  } catch (e) {
    throw new ApiError('down', 0, 'NODE_UNREACHABLE', 'The node at ' + location.origin + ' does not answer.'
      + ' It may be stopped or restarting: start it again (./certmail node --config ...) and this page carries on.');
  }
  if (response.ok) {
    return response;
  }
  let body = {};
  try {
    body = await response.json();
  } catch (e) {
    // not JSON: a proxy or a stopping node
  }
  const code = body.error || 'HTTP_' + response.status;
  const message = body.message || response.statusText;
  if (response.status === 401 || (response.status === 403 && code === 'WRONG_MAILBOX')) {
    throw new ApiError('token', response.status, code, message);
  }
  if (response.status === 404 && (code === 'NOT_HOSTED_HERE' || code === 'UNKNOWN_MAILBOX')) {
    throw new ApiError('not-hosted', response.status, code, message);
  }
  if (response.status === 502 || response.status === 503 || response.status === 504) {
    throw new ApiError('down', response.status, code, message);
  }
  throw new ApiError('request', response.status, code, message);
}

export async function apiJson(path, options) {
  return (await api(path, options)).json();
}

const ERROR_TITLES = {
  token: 'Your token is no longer accepted',
  down: 'The node does not answer',
  'not-hosted': 'Not hosted on this node',
  request: 'The node refused the request',
};

const ERROR_ADVICE = {
  token: 'Tokens expire when revoked (certmail keys token --revoke) or replaced. Ask for a new one with'
    + ' "./certmail keys token --mailbox <mailbox> --keys <node key directory>" and sign in again.',
  down: 'Nothing you entered is lost: this page retries on its own.',
  'not-hosted': 'Each node serves the mailboxes of its own organisation: open the web pages of the node that hosts'
    + ' it (./certmail demo and docs/local-network.md list them).',
  request: '',
};

/**
 * Shows an error in the page's alert panel (role=alert, so screen readers announce it); a token
 * that no longer works ends the session. Returns the kind.
 */
export function showError(error) {
  const panel = document.getElementById('error');
  const kind = error instanceof ApiError ? error.kind : 'request';
  panel.replaceChildren();
  const title = el('h2', {}, ERROR_TITLES[kind] || 'Something went wrong');
  const message = el('p', {}, error.message + (error.code ? ' (' + error.code + ')' : ''));
  panel.append(title, message);
  if (ERROR_ADVICE[kind]) {
    panel.append(el('p', {}, ERROR_ADVICE[kind]));
  }
  if (kind === 'token') {
    signOut();
    panel.append(el('p', {}, el('a', { href: '/ui/' }, 'Sign in again')));
  }
  panel.dataset.kind = kind;
  panel.hidden = false;
  return kind;
}

export function clearError() {
  const panel = document.getElementById('error');
  if (panel.dataset.kind !== 'token') {
    panel.hidden = true;
    panel.dataset.kind = '';
  }
}

/** Builds an element; children are nodes or text (never parsed as HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name === 'class') {
      node.className = value;
    } else if (name === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (name.startsWith('on')) {
      node.addEventListener(name.substring(2), value);
    } else {
      node.setAttribute(name, value === true ? '' : value);
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

/** The page header: who is signed in, the pages, and sign-out. */
export function header(current) {
  const { mailbox } = requireSession();
  const who = document.getElementById('who');
  if (who) {
    who.textContent = mailbox;
  }
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === current) {
      link.setAttribute('aria-current', 'page');
    }
  }
  document.getElementById('sign-out').addEventListener('click', () => {
    signOut();
    location.assign('/ui/?signed-out');
  });
}

/** "in 4 min 12 s" / "12 s ago", for deadlines and countdowns. */
export function relative(millis, now = Date.now()) {
  const seconds = Math.round((millis - now) / 1000);
  const span = Math.abs(seconds);
  const text = span >= 86400 ? Math.floor(span / 86400) + ' d ' + Math.floor(span % 86400 / 3600) + ' h'
    : span >= 3600 ? Math.floor(span / 3600) + ' h ' + Math.floor(span % 3600 / 60) + ' min'
      : span >= 60 ? Math.floor(span / 60) + ' min ' + (span % 60) + ' s' : span + ' s';
  return seconds >= 0 ? 'in ' + text : text + ' ago';
}

/** A local date and time for people, with the exact UTC instant in the title. */
export function when(millis) {
  const date = new Date(Number(millis));
  return el('time', { datetime: date.toISOString(), title: date.toISOString() }, date.toLocaleString());
}

/** Runs task now and then every interval ms (while the tab is visible); errors go to the panel. */
export function poll(task, interval) {
  let timer = null;
  const run = async () => {
    try {
      await task();
      clearError();
    } catch (e) {
      if (showError(e) === 'token') {
        return;
      }
    }
    timer = setTimeout(run, interval);
  };
  run();
  return { now: () => { clearTimeout(timer); run(); } };
}

/** One line per flavour: what the recipient sees before signing. Shared by compose and inbox. */
export const FLAVOURS = {
  CEM: 'CEM: the recipient sees the mail and then decides whether to sign the receipt (they can read it and refuse).',
  NSR: 'NSR (no selective receipt): the recipient signs the receipt before seeing the mail, then gets it.',
  IP: 'IP (integrity protection): like NSR, and the receipt names the hash of label and content, so the content'
    + ' the recipient gets is proven to be the one they signed for.',
};

/** What signing the COD means for the recipient, per flavour (inbox). */
export const SIGNING_MEANS = {
  CEM: 'You have seen this mail. Signing its Certificate of Delivery (COD) proves to the sender that you received'
    + ' exactly this content (its hash is in your signature).',
  NSR: 'You sign the Certificate of Delivery (COD) before you see the content: it proves you received the mail'
    + ' with this label, whatever it says. The content is released to you right after.',
  IP: 'You sign the Certificate of Delivery (COD) before you see the content, over the hash of label and content:'
    + ' it proves you received exactly the content with that hash. The content is released right after, and'
    + ' checked against that hash.',
};
