// The verify page: no sign-in, nothing uploaded. The bundle and an optional CA file are read
// from the user's disk; the CA defaults to the one this node serves (/ui/ca.pem).
import { el } from './app.js';
import { FAILURES, NotABundleError, readBundle, readCa, reportLines, requireSecureContext, verdictLine,
  verifyBundle } from './verifier.js';

const caLine = document.getElementById('ca-line');
let trusted = null;
let trustedSource = '';
let lastBundle = null;
const caReady = loadNodeCa();

function showError(message) {
  const panel = document.getElementById('error');
  panel.replaceChildren(el('p', {}, message));
  panel.hidden = false;
}

async function loadNodeCa() {
  try {
    const response = await fetch('/ui/ca.pem', { cache: 'no-store' });
    if (!response.ok) {
      throw new Error('HTTP ' + response.status);
    }
    trusted = readCa(new Uint8Array(await response.arrayBuffer()));
    trustedSource = location.origin + '/ui/ca.pem';
    caLine.textContent = 'Trusting the network CA this node serves (' + trustedSource + '). Drop another CA file to'
      + ' trust that one instead.';
  } catch (e) {
    caLine.textContent = 'This node\'s CA could not be loaded (' + e.message + '): drop the network\'s ca.pem,'
      + ' or bundles are checked only against their own CA (SELF-CONSISTENT, never VALID).';
  }
}

async function readFile(file) {
  return new Uint8Array(await file.arrayBuffer());
}

async function useCa(file) {
  try {
    trusted = readCa(await readFile(file));
    trustedSource = file.name;
    caLine.textContent = 'Trusting the CA from ' + file.name + '.';
    document.getElementById('error').hidden = true;
    if (lastBundle) {
      await check(lastBundle);
    }
  } catch (e) {
    showError('Cannot use ' + file.name + ' as the CA: ' + e.message
      + '; give the network CA certificate, e.g. <keys dir>/<node>/ca.pem');
  }
}

async function check(file) {
  lastBundle = file;
  const result = document.getElementById('result');
  const verdict = document.getElementById('verdict');
  document.getElementById('error').hidden = true;
  await caReady;
  try {
    requireSecureContext();
    const bundle = readBundle(await readFile(file), file.name);
    const report = await verifyBundle(bundle, trusted);
    render(report, file.name);
  } catch (e) {
    result.hidden = false;
    verdict.dataset.verdict = e instanceof NotABundleError ? 'NOT_A_BUNDLE' : 'ERROR';
    verdict.textContent = e instanceof NotABundleError ? 'Not a certmail evidence bundle' : 'Cannot check this file';
    document.getElementById('summary').textContent = e.message;
    document.getElementById('items').replaceChildren();
    document.getElementById('problems').replaceChildren();
    document.getElementById('report-text').textContent = e.message;
  }
  verdict.focus();
}

function render(report, name) {
  const verdict = document.getElementById('verdict');
  document.getElementById('result').hidden = false;
  verdict.dataset.verdict = report.verdict;
  verdict.className = report.verdict === 'VALID' ? 'good' : report.verdict === 'INVALID' ? 'bad' : 'warn';
  verdict.textContent = report.verdict === 'VALID' ? 'VALID' : report.verdict === 'INVALID' ? 'NOT VALID'
    : 'SELF-CONSISTENT (CA not checked)';
  document.getElementById('summary').textContent = verdictLine(report) + ' '
    + (report.label ? 'Label ' + report.label + '. ' : '') + (report.caTrusted ? 'Trusted CA: ' + report.caSubject
      + ' (from ' + trustedSource + ').' : 'CA of the bundle itself: ' + report.caSubject + ', SHA-256 '
      + report.caFingerprint + '.');
  document.getElementById('items').replaceChildren(...report.items.map(item => el('li', {
    class: 'evidence-item', dataset: { number: item.number, kind: item.kind, verified: item.failure ? 'false' : 'true',
      failure: item.failure || '' } },
  el('div', { class: 'evidence-head' }, el('strong', {}, item.number + '. ' + item.kind), ' (ETSI ' + item.etsiEvent
    + ') signed by ', el('span', { class: 'signer' }, item.signer), ' ',
  el('span', { class: item.failure ? 'mark bad' : 'mark good' }, item.failure ? '✗ INVALID: ' + item.failure
    : report.caTrusted ? '✓ VALID' : 'consistent (against the bundle\'s own CA)')),
  el('p', { class: 'proves' }, 'Proves: ' + item.proves),
  item.failure ? el('p', { class: 'failure' }, item.detail, el('br'), 'Check: ' + FAILURES[item.failure]) : null)));
  document.getElementById('problems').replaceChildren(...report.bundleProblems.map(problem =>
    el('li', { class: 'bad' }, 'BUNDLE INVALID: ' + problem)));
  document.getElementById('report-text').textContent = reportLines(report, name, trustedSource).join('\n');
}

function wire(dropId, inputId, handler) {
  const drop = document.getElementById(dropId);
  const input = document.getElementById(inputId);
  input.addEventListener('change', () => {
    if (input.files.length) {
      handler(input.files[0]);
    }
  });
  drop.addEventListener('dragover', event => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', event => {
    event.preventDefault();
    drop.classList.remove('over');
    if (event.dataTransfer.files.length) {
      handler(event.dataTransfer.files[0]);
    }
  });
}

wire('bundle-drop', 'bundle-file', check);
wire('ca-drop', 'ca-file', useCa);
// A file dropped anywhere else would make the browser navigate to it: keep it on the page.
window.addEventListener('dragover', event => event.preventDefault());
window.addEventListener('drop', event => event.preventDefault());
