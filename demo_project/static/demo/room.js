/*
 * The room page: who is here, kept current by sse:join and sse:leave; sse:revoked when
 * this user is kicked out; which tab holds the page's stream. Only ever sets textContent.
 */
(function () {
  'use strict';

  const names = JSON.parse(document.getElementById('room-names').textContent);
  const list = document.getElementById('here');

  function nameOf(who) {
    return names[String(who.user)] || String(who.user);
  }

  document.addEventListener('sse:join', (event) => {
    const name = nameOf(event.detail);
    if ([...list.children].some((item) => item.dataset.name === name)) return;
    list.querySelector('.empty')?.remove();
    const item = document.createElement('li');
    item.dataset.name = name;
    item.textContent = name;
    list.append(item);
  });

  document.addEventListener('sse:leave', (event) => {
    const name = nameOf(event.detail);
    for (const item of list.querySelectorAll('li')) if (item.dataset.name === name) item.remove();
  });

  document.addEventListener('sse:revoked', () => {
    document.getElementById('revoked').hidden = false;
  });

  const role = document.getElementById('tab-role');
  const showRole = () => {
    role.textContent = { leader: 'the leader', follower: 'a follower', alone: 'on its own' }[
      window.djangoSSE?.role
    ] || '…';
  };
  document.addEventListener('sse:state', showRole);
  showRole();
})();
