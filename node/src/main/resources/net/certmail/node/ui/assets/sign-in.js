// Sign-in: checks the mailbox and token against the API (the inbox listing needs both) before
// keeping them in this tab's session storage.
import { ApiError, api, session, showError, signIn, signOut } from './app.js';

const form = document.getElementById('sign-in');
const notice = document.getElementById('notice');

if (location.search === '?signed-out') {
  notice.textContent = 'You are signed out.';
  notice.hidden = false;
  history.replaceState(null, '', '/ui/');
} else if (session()) {
  location.replace('/ui/outbox');
}

form.addEventListener('submit', async event => {
  event.preventDefault();
  const mailbox = form.mailbox.value.trim().toLowerCase();
  const token = form.token.value.trim();
  const button = document.getElementById('sign-in-button');
  button.disabled = true;
  signIn(mailbox, token);
  try {
    await api('inbox');
    location.assign('/ui/outbox');
  } catch (e) {
    signOut();
    if (e instanceof ApiError && e.kind === 'token') {
      e.message = 'This token is not accepted for ' + mailbox + ' on this node: ' + e.message;
    }
    showError(e);
    form.token.focus();
  } finally {
    button.disabled = false;
  }
});
