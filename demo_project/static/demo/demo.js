/*
 * The demo's page code: what an app writes on top of django-sse.js. It listens
 * to the DOM events django-sse.js dispatches and only ever sets textContent.
 */
(function () {
  'use strict';

  const TOAST_LIFETIME = 8000; // milliseconds

  const unread = new Set(JSON.parse(document.getElementById('unread-ids').textContent));
  const badge = document.getElementById('unread');

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showUnread() {
    badge.textContent = String(unread.size);
    badge.hidden = unread.size === 0;
  }

  function toast(title, text) {
    const box = element('div', 'toast');
    box.append(element('strong', '', title), element('span', '', text));
    document.getElementById('toasts').append(box);
    setTimeout(() => box.remove(), TOAST_LIFETIME);
  }

  // The page was rendered at T and the stream resumes from T, so an event may
  // already be on the page: items carry their id, and are never added twice.
  function shown(list, id) {
    return [...list.children].some((item) => item.dataset.id === String(id));
  }

  function prepend(listId, id, who, text, className) {
    const list = document.getElementById(listId);
    if (!list || shown(list, id)) return;
    const item = element('li', className);
    item.dataset.id = String(id);
    item.append(element('strong', '', who), ' ', element('span', '', text));
    list.querySelector('.empty')?.remove();
    list.prepend(item);
  }

  // Events of these names that are not the demo's own (text published by hand,
  // e.g. with manage.py sse_send) are not shown: the recovery page logs them.
  const ours = (detail) => typeof detail === 'object' && detail !== null;

  document.addEventListener('sse:notification', (event) => {
    const note = event.detail;
    if (!ours(note)) return;
    const list = document.getElementById('notifications');
    if (unread.has(note.id) || (list && shown(list, note.id))) return;
    unread.add(note.id);
    showUnread();
    toast(note.from, note.text);
    prepend('notifications', note.id, note.from, note.text, 'unread');
  });

  document.addEventListener('sse:read', () => {
    unread.clear();
    showUnread();
    document.querySelectorAll('#notifications .unread').forEach((item) => item.classList.remove('unread'));
  });

  document.addEventListener('sse:feed', (event) => {
    const post = event.detail;
    if (!ours(post)) return;
    prepend('feed', post.id, post.author, post.text);
  });

  // The log no longer holds what this page missed: its state is stale.
  document.addEventListener('sse:reset', () => window.location.reload());

  // The recovery page logs every event and state change it sees.
  const log = document.getElementById('log');
  function record(label, text) {
    const time = new Date().toLocaleTimeString();
    log.prepend(element('li', '', time + '  ' + label + '  ' + text));
  }
  if (log) {
    for (const name of ['notification', 'feed', 'read', 'message', 'reset', 'dropped']) {
      document.addEventListener('sse:' + name, (event) => {
        document.getElementById('last-id').textContent = djangoSSE.lastEventId;
        record(name + ' #' + event.lastEventId, JSON.stringify(event.detail));
      });
    }
    document.addEventListener('sse:state', (event) => record('state', event.detail.state));
  }

  // The header shows which page this is.
  for (const link of document.querySelectorAll('header nav a')) {
    const here = link.pathname === location.pathname;
    if (here || (link.pathname !== '/' && location.pathname.startsWith(link.pathname))) {
      link.setAttribute('aria-current', 'page');
    }
  }

  // Forms post with fetch and stay on the page: the result arrives as an event.
  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!form.matches('form[data-fetch]')) return;
    event.preventDefault();
    const headers = { Accept: 'application/json' };
    const response = await fetch(form.action, { method: 'POST', body: new FormData(form), headers });
    const result = await response.json();
    if (result.error) return toast('Not sent', result.error);
    const input = form.querySelector('input[name=text]');
    if (input) input.value = '';
  });
})();
