/*
 * django-sse.js: the browser side of django-sse. Hand-written, no build step.
 *
 * Loaded by {% sse_script %}, which sets data-url (the stream URL with topics and
 * a cursor) and data-events (a JSON list of event names to re-dispatch). Exposes
 * one global, window.djangoSSE. See docs/browser.md.
 */
(function () {
  'use strict';

  const BACKOFF_INITIAL = 1000; // milliseconds before the first reconnect of our own
  const BACKOFF_MAX = 30000; // milliseconds, the ceiling of the exponential backoff
  const PROVEN_AFTER = 5000; // milliseconds open (or one event) before an open counts
  const RESERVED = new Set(['sse:reset', 'sse:dropped', 'sse:join', 'sse:leave', 'sse:revoked']); // wire names kept as DOM names

  // An incremental text/event-stream parser (WHATWG HTML, "Server-sent events").
  // feed() takes bytes (Uint8Array) or already decoded text, cut anywhere: a
  // line may span chunks, a CRLF may be split between two, a UTF-8 character too.
  function createParser(onEvent) {
    const decoder = new TextDecoder('utf-8'); // drops a leading BOM, as the spec says
    // lastEventId: the stream's last event ID string, what a reconnect would send.
    const parser = { lastEventId: '', retry: null };
    let started = false; // past the first character, where text input may carry a BOM
    let buffer = ''; // the unfinished line
    let skipLF = false; // the last chunk ended in CR: an LF starting the next ends nothing
    let data = ''; // one "\n" per data line, so '' means "no data line yet"
    let type = '';
    let id = ''; // the last event ID buffer: it counts once its block ends

    function reset() {
      data = '';
      type = '';
    }

    function dispatch() {
      parser.lastEventId = id; // even for a block without data
      const event = data && { type: type || 'message', data: data.slice(0, -1), lastEventId: id };
      reset();
      if (event) onEvent(event);
    }

    function field(name, value) {
      if (name === 'data') data += value + '\n';
      else if (name === 'event') type = value;
      else if (name === 'id' && !value.includes('\0')) id = value;
      else if (name === 'retry' && /^[0-9]+$/.test(value)) parser.retry = parseInt(value, 10);
    }

    function line(text) {
      if (text === '') return dispatch();
      if (text[0] === ':') return; // a comment, e.g. a heartbeat
      const colon = text.indexOf(':');
      if (colon === -1) return field(text, '');
      const value = text.slice(colon + 1);
      field(text.slice(0, colon), value[0] === ' ' ? value.slice(1) : value);
    }

    parser.feed = function (chunk) {
      let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      if (!started && text) {
        started = true;
        if (typeof chunk === 'string' && text[0] === '\uFEFF') text = text.slice(1);
      }
      if (skipLF && text) {
        skipLF = false;
        if (text[0] === '\n') text = text.slice(1);
      }
      buffer += text;
      const ends = /\r\n|\r|\n/g;
      let start = 0;
      let match;
      while ((match = ends.exec(buffer)) !== null) {
        // A CR at the end may be the first half of a CRLF: the line ends either way.
        if (match[0] === '\r' && ends.lastIndex === buffer.length) skipLF = true;
        line(buffer.slice(start, match.index));
        start = ends.lastIndex;
      }
      buffer = buffer.slice(start);
    };
    // The end of the stream drops an unfinished event, and its id, as browsers do.
    parser.end = function () {
      buffer = '';
      id = parser.lastEventId;
      reset();
    };
    return parser;
  }

  // JSON if the text is JSON (the server sends non-str data as JSON), else the text.
  function parseData(text) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return text;
    }
  }

  function domType(name) {
    return RESERVED.has(name) ? name : 'sse:' + name;
  }

  const callbacks = new Map(); // event name -> Set of functions

  // Call the callbacks, then dispatch the DOM event. Event data is only ever
  // passed on as values: this file never puts it into the page as HTML.
  function deliver(name, text, id) {
    const data = parseData(text);
    const info = { event: name, id, raw: text };
    for (const fn of callbacks.get(name) || []) {
      try {
        fn(data, info);
      } catch (error) {
        reportError(error); // one broken callback must not silence the others
      }
    }
    const event = new CustomEvent(domType(name), { detail: data });
    event.lastEventId = id;
    event.raw = text;
    document.dispatchEvent(event);
    if (name === 'sse:revoked' && data && data.topic) withoutTopic(data.topic);
  }

  // The server took a topic out of this stream (django_sse.revoke): reconnect without
  // it, at once, keeping the place in every other stream (from_topic).
  function withoutTopic(topic) {
    if (!live.url) return;
    const url = new URL(live.url, document.baseURI);
    const kept = url.searchParams.getAll('topic').filter((t) => t !== topic);
    url.searchParams.delete('topic');
    for (const t of kept) url.searchParams.append('topic', t);
    connect(url.href);
  }

  // The page's stream; `attempt` counts our own reconnects since the last proven open,
  // `dropped` is true once the open stream has ended (the browser is reconnecting), and
  // `proven` once the open stream has delivered an event or lasted PROVEN_AFTER: a
  // server that answers and hangs up at once (draining, at a cap, its database down)
  // has not taken the client back, so that end counts as one more failed reconnect.
  const live = {
    url: null,
    source: null,
    lastEventId: '',
    attempt: 0,
    dropped: false,
    proven: false,
    provenTimer: null,
    timer: null,
    state: null,
  };
  const names = new Set(['message', ...RESERVED]); // the event names this page listens to
  const groupNames = new Set(names); // ... and the other tabs of its group (what a leader opens)

  // One stream for all the tabs of a page (same origin, same URL but for the cursor):
  // the tab holding the Web Lock named after the URL opens it and relays every event
  // through a BroadcastChannel of that name; when it goes, the lock passes to another
  // tab, which opens from the last event relayed to it. Each tab keeps its own cursor
  // and skips a relayed event it already has, so every tab sees each event once, in order.
  const shared = { enabled: true, group: null };

  function setState(state) {
    if (state === live.state) return;
    if (shared.group?.leader) relay({ type: 'state', state });
    const previous = live.state;
    live.state = state;
    document.documentElement.setAttribute('data-sse-state', state);
    document.dispatchEvent(new CustomEvent('sse:state', { detail: { state, previous } }));
  }

  function prove() {
    clearTimeout(live.provenTimer);
    live.provenTimer = null;
    live.proven = true;
    live.attempt = 0; // back to the server's retry: for the next drop
  }

  function onMessage(event) {
    if (!live.proven && event.currentTarget === live.source) prove();
    const id = event.lastEventId;
    const fresh = Boolean(id) && id !== live.lastEventId; // ephemeral events keep the last id
    // Ephemeral events carry no id of their own: keep the last real one.
    if (id) live.lastEventId = id;
    // To the other tabs first: a delivery may move this tab to another group.
    if (shared.group?.leader) relay({ type: 'event', name: event.type, text: event.data, id, fresh });
    if (names.has(event.type)) deliver(event.type, event.data, id);
  }

  function listen(name) {
    if (names.has(name)) return;
    names.add(name);
    addGroupName(name);
    shared.group?.channel.postMessage({ type: 'names', names: [name] });
  }

  function addGroupName(name) {
    if (groupNames.has(name)) return;
    groupNames.add(name);
    if (live.source) live.source.addEventListener(name, onMessage);
  }

  function groupKey(href) {
    const url = new URL(href, document.baseURI);
    for (const param of ['last_event_id', 'from_topic', 'token']) url.searchParams.delete(param);
    url.searchParams.sort();
    return 'django-sse ' + url.origin + url.pathname + '?' + url.searchParams;
  }

  function canShare() {
    return shared.enabled && Boolean(navigator.locks) && typeof BroadcastChannel === 'function';
  }

  function relay(message) {
    shared.group.channel.postMessage(message);
  }

  // A relayed event's id against this tab's cursor: null if it is no further in any
  // stream (a new leader's replay repeats what we have), else the cursor moved on to it,
  // stream by stream (this tab may be ahead in another stream, from its render).
  function advanced(id) {
    const [tag, ...theirs] = id.split('.');
    const [ownTag, ...ours] = live.lastEventId.split('.');
    if (!live.lastEventId || tag !== ownTag || theirs.length !== ours.length) return id;
    const positions = theirs.map((part, i) => Math.max(parseInt(part, 36), parseInt(ours[i], 36)));
    if (positions.every((position, i) => position === parseInt(ours[i], 36))) return null;
    return [tag, ...positions.map((position) => position.toString(36))].join('.');
  }

  function onRelay(group, message) {
    if (group !== shared.group) return;
    if (message.names) for (const name of message.names) addGroupName(name);
    if (message.type === 'hello' && group.leader) relay({ type: 'state', state: live.state });
    if (group.leader) return; // only the leader's own stream counts in the leader
    if (message.type === 'state') setState(message.state);
    if (message.type === 'event') {
      if (message.fresh) {
        const cursor = advanced(message.id);
        if (cursor === null) return;
        live.lastEventId = cursor;
      }
      if (names.has(message.name)) deliver(message.name, message.text, message.id);
    }
  }

  function joinGroup() {
    const key = groupKey(live.url);
    const group = {
      channel: new BroadcastChannel(key),
      abort: new AbortController(),
      leader: false,
      release: null, // resolves the lock's promise: the next tab in its queue takes over
    };
    shared.group = group;
    group.channel.onmessage = (event) => onRelay(group, event.data);
    group.channel.postMessage({ type: 'hello', names: [...groupNames] });
    const lead = () =>
      new Promise((release) => {
        if (shared.group !== group) return release();
        group.leader = true;
        group.release = release;
        open(); // from this tab's cursor: the last event the previous leader relayed
      });
    navigator.locks.request(key, { signal: group.abort.signal }, lead).catch(() => {});
  }

  function leaveGroup() {
    const group = shared.group;
    if (!group) return;
    shared.group = null;
    group.abort.abort(); // not leading yet: withdraw from the queue
    if (group.release) group.release(); // leading: the next tab in the queue takes over
    group.channel.close();
  }

  // The delay before our reconnect number `attempt` (0-based): exponential,
  // capped, with "equal jitter" so a crowd of pages does not come back at once.
  function retryDelay(attempt) {
    const ceiling = Math.min(BACKOFF_MAX, BACKOFF_INITIAL * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  // The cursor goes in the query string: a new EventSource cannot send
  // Last-Event-ID, and the server takes the header over the query when both exist.
  function withCursor(href, lastEventId) {
    const url = new URL(href, document.baseURI);
    if (lastEventId) url.searchParams.set('last_event_id', lastEventId);
    return url.href;
  }

  function onError(source) {
    if (source !== live.source) return;
    clearTimeout(live.provenTimer);
    live.provenTimer = null;
    if (source.readyState !== EventSource.CLOSED && !live.dropped && live.proven) {
      // The stream ended: the browser reconnects by itself, once, after the server's
      // retry: (short when a server drains for a deploy), with Last-Event-ID.
      live.dropped = true;
      setState('reconnecting');
      return;
    }
    // That reconnect failed too (the server is down), the stream ended before it proved
    // itself, or the browser gave up (a non-200 answer): ours from now on, backing off whatever retry: said, so a crowd of pages
    // does not stampede a server that is coming back.
    source.close();
    live.source = null;
    setState('reconnecting');
    live.timer = setTimeout(open, retryDelay(live.attempt));
    live.attempt += 1;
  }

  function open() {
    live.timer = null;
    const source = new EventSource(withCursor(live.url, live.lastEventId));
    live.source = source;
    source.onopen = () => {
      if (source !== live.source) return;
      live.dropped = false;
      live.proven = false;
      clearTimeout(live.provenTimer);
      live.provenTimer = setTimeout(prove, PROVEN_AFTER);
      setState('open');
    };
    source.onerror = () => onError(source);
    for (const name of groupNames) source.addEventListener(name, onMessage);
  }

  function stop() {
    leaveGroup();
    clearTimeout(live.timer);
    clearTimeout(live.provenTimer);
    live.timer = null;
    live.provenTimer = null;
    live.proven = false;
    if (live.source) live.source.close();
    live.source = null;
  }

  function topicsOf(href) {
    return new URL(href, document.baseURI).searchParams.getAll('topic').sort();
  }

  // A new URL with other topics: name the topics the cursor was issued for
  // (from_topic), so the streams both keep their place instead of a reset.
  function movedFrom(href, before) {
    const url = new URL(href, document.baseURI);
    const previous = topicsOf(before);
    url.searchParams.delete('from_topic');
    if (previous.join('\n') !== topicsOf(href).join('\n')) {
      for (const topic of previous.length ? previous : ['']) url.searchParams.append('from_topic', topic);
    }
    return url.href;
  }

  function connect(url) {
    stop();
    if (url) live.url = live.url && live.lastEventId ? movedFrom(url, live.url) : url;
    if (!live.url) throw new Error('djangoSSE.connect(): no stream URL');
    live.attempt = 0;
    live.dropped = false;
    setState('connecting');
    if (canShare()) joinGroup();
    else open();
  }

  function close() {
    stop();
    setState('closed');
  }

  function on(name, fn) {
    if (!callbacks.has(name)) callbacks.set(name, new Set());
    callbacks.get(name).add(fn);
    listen(name);
    return () => callbacks.get(name).delete(fn); // off()
  }

  // A background job (django_sse.progress.jobs) on the page's stream: onState(state) now
  // and at each change. Ticks are ephemeral, so each time the stream opens it
  // reads `url` (django_sse_progress:job) for the state now; a state behind the one shown
  // (a read that lost the race with a live tick) is skipped, and nothing follows
  // a final state. Returns stop().
  const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

  function followJob(id, url, onState) {
    let shown = null;
    // Each state carries a version that only grows: a read that answers later than
    // a live tick, but with an older state, is ignored.
    const behind = (state) =>
      FINAL.has(shown.status) || (!FINAL.has(state.status) && state.version < shown.version);
    const show = (state) => {
      if (state?.id !== id || (shown && behind(state))) return;
      shown = state;
      onState(state);
      if (FINAL.has(state.status)) stop();
    };
    const read = () =>
      fetch(url, { headers: { Accept: 'application/json' } })
        .then((response) => response.ok && response.json().then(show))
        .catch(reportError);
    const onOpen = (event) => event.detail.state === 'open' && read();
    const off = on('job', show);
    function stop() {
      off();
      document.removeEventListener('sse:state', onOpen);
    }
    document.addEventListener('sse:state', onOpen);
    if (live.state === 'open') read();
    return stop;
  }

  // For htmx's sse extension: `htmx.createEventSource = djangoSSE.createEventSource`.
  // When the browser gives up, the extension makes a new EventSource for the same
  // URL; this one resumes from the last id its listeners saw, not from the start.
  const htmxCursors = new Map(); // URL as given -> last event id seen
  function createEventSource(url) {
    const source = new EventSource(withCursor(url, htmxCursors.get(url)), { withCredentials: true });
    const add = source.addEventListener;
    const remember = (event) => event.lastEventId && htmxCursors.set(url, event.lastEventId);
    source.addEventListener = function (type, listener, options) {
      add.call(source, type, remember); // added once per type: the same function
      add.call(source, type, listener, options);
    };
    return source;
  }

  function cookie(name) {
    for (const part of document.cookie.split(';')) {
      const [key, ...value] = part.trim().split('=');
      if (key === name) return decodeURIComponent(value.join('='));
    }
    return null;
  }

  function requestInit(options) {
    const headers = new Headers(options.headers || {});
    headers.set('Accept', 'text/event-stream');
    const token = cookie('csrftoken');
    if (token && !headers.has('X-CSRFToken')) headers.set('X-CSRFToken', token);
    let body = options.body;
    const plain = body && Object.getPrototypeOf(body) === Object.prototype;
    if (plain || Array.isArray(body)) {
      body = JSON.stringify(body);
      if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
    }
    return { method: options.method || 'POST', headers, body, signal: options.signal };
  }

  // fetch() a stream (a POST by default) and call onEvent({event, data, raw, id})
  // per event. Resolves with the last event id when the server ends the stream;
  // rejects on a non-2xx answer, a network error, or an AbortError when
  // options.signal (an AbortController's) aborts, which also cancels the request.
  async function post(url, options) {
    options = options || {};
    const response = await fetch(url, requestInit(options));
    const contentType = response.headers.get('Content-Type') || '';
    if (!response.ok || !contentType.startsWith('text/event-stream')) {
      await response.body?.cancel();
      throw new Error('django-sse: ' + response.status + ' ' + contentType + ' from ' + url);
    }
    const onEvent = options.onEvent || function () {};
    const parser = createParser(function (event) {
      const { type, data, lastEventId } = event;
      onEvent({ event: type, data: parseData(data), raw: data, id: lastEventId });
    });
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
    parser.end();
    return parser.lastEventId;
  }

  // Whether DOMContentLoaded is still to come: while the page parses, and while
  // deferred scripts (ours included, as {% sse_script %} renders it) run.
  function beforeContentLoaded(script) {
    const state = document.readyState;
    return state === 'loading' || (state === 'interactive' && script.defer && !script.async);
  }

  function configure(script) {
    const dataset = script.dataset;
    if (dataset.shared === 'false') shared.enabled = false;
    if (dataset.events) for (const name of JSON.parse(dataset.events)) listen(name);
    if (!dataset.url) return;
    live.url = dataset.url;
    // Connect once the page's own scripts, deferred ones included, have added
    // their listeners: a resumed stream may replay events in its first chunk.
    if (beforeContentLoaded(script)) {
      document.addEventListener('DOMContentLoaded', () => live.state === null && connect());
    } else {
      connect();
    }
  }

  // A page leaving (or entering the back/forward cache) closes its stream
  // quietly, so the indicator does not flash "reconnecting"; coming back reopens it.
  window.addEventListener('pagehide', () => live.state !== 'closed' && stop());
  window.addEventListener('pageshow', (event) => {
    if (event.persisted && live.url && live.state !== 'closed') connect();
  });

  window.djangoSSE = {
    on,
    listen,
    connect,
    close,
    post,
    createParser,
    createEventSource,
    followJob,
    retryDelay,
    get state() {
      return live.state;
    },
    get lastEventId() {
      return live.lastEventId;
    },
    // 'leader' (this tab holds the stream), 'follower' (another tab relays it), 'alone'.
    get role() {
      if (!shared.group) return 'alone';
      return shared.group.leader ? 'leader' : 'follower';
    },
  };

  if (document.currentScript) configure(document.currentScript);
})();
