/*
 * The htmx page: htmx's sse extension opens the page's stream through
 * djangoSSE.createEventSource, which keeps the cursor across the extension's
 * reconnects, and the status dot in the header follows that stream.
 */
(function () {
  'use strict';

  // The extension's stream is the page's only one: the header's notifications (toast,
  // unread count) hear it too, as DOM events, as django-sse.js dispatches them elsewhere.
  const ALSO = ['notification', 'read'];
  const parsed = (data) => {
    try {
      return JSON.parse(data);
    } catch {
      return data;
    }
  };
  htmx.createEventSource = (url) => {
    const source = djangoSSE.createEventSource(url);
    for (const name of ALSO) {
      source.addEventListener(name, (event) => {
        const dom = new CustomEvent('sse:' + name, { detail: parsed(event.data) });
        document.dispatchEvent(Object.assign(dom, { lastEventId: event.lastEventId }));
      });
    }
    return source;
  };

  const root = document.documentElement;
  root.dataset.sseState = 'connecting';
  document.addEventListener('htmx:sseOpen', () => {
    root.dataset.sseState = 'open';
  });
  document.addEventListener('htmx:sseError', () => {
    root.dataset.sseState = 'reconnecting';
  });

  // The card arrives by the stream; the form only needs emptying, or saying what the
  // server refused (htmx swaps nothing for a 4xx answer).
  document.addEventListener('htmx:afterRequest', (event) => {
    const form = event.detail.elt;
    if (!form.matches('form[hx-post]')) return;
    const error = form.parentElement.querySelector('.form-error');
    if (event.detail.successful) {
      form.elements.text.value = '';
      error.hidden = true;
    } else {
      const answer = event.detail.xhr;
      error.textContent = answer.status ? answer.responseText : 'The server did not answer.';
      error.hidden = false;
    }
  });
})();
