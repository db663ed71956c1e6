/*
 * The htmx page: htmx's sse extension opens the page's stream through
 * djangoSSE.createEventSource, which keeps the cursor across the extension's
 * reconnects, and the status dot in the header follows that stream.
 */
(function () {
  'use strict';

  htmx.createEventSource = djangoSSE.createEventSource;

  const root = document.documentElement;
  root.dataset.sseState = 'connecting';
  document.addEventListener('htmx:sseOpen', () => {
    root.dataset.sseState = 'open';
  });
  document.addEventListener('htmx:sseError', () => {
    root.dataset.sseState = 'reconnecting';
  });

  // The card arrives by the stream; the form only needs emptying.
  document.addEventListener('htmx:afterRequest', (event) => {
    const form = event.detail.elt;
    if (form.matches('form[hx-post]') && event.detail.successful) form.elements.text.value = '';
  });
})();
