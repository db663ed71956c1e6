/*
 * The progress demos' page code, on top of django-sse.js. The batch import and
 * the phased report read a POST stream with djangoSSE.post() and cancel it with
 * an AbortController; the export job page follows a background job with
 * djangoSSE.followJob(). Event data only ever goes into textContent.
 */
(function () {
  'use strict';

  const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setText(root, selector, text) {
    const node = root.querySelector(selector);
    if (node) node.textContent = text;
  }

  function showPercent(root, percent) {
    const value = Math.min(Math.max(percent || 0, 0), 100);
    const bar = root.querySelector('.bar');
    bar.setAttribute('aria-valuenow', String(value));
    bar.querySelector('.bar-fill').style.width = value + '%';
    setText(bar, '.bar-label', value + '%');
  }

  function showStatus(root, status) {
    root.dataset.status = status;
    const pill = root.querySelector('[data-status-pill]');
    pill.textContent = status;
    pill.className = 'pill ' + status;
  }

  // A POST stream: a Start button, a Cancel button (its AbortController), the
  // bar, the current message, a log, and for a batch the tally.
  function streamPanel(panel) {
    const start = panel.querySelector('[data-start]');
    const cancel = panel.querySelector('[data-cancel]');
    const log = panel.querySelector('[data-log]');
    let controller = null;
    let failed = 0;
    let run = null; // this panel's run, as the server numbered it

    function showTally(succeeded, failures) {
      setText(panel, '[data-succeeded]', String(succeeded));
      setText(panel, '[data-failed]', String(failures));
    }

    // Phases before `current` are done (all of them when it is null).
    function markPhases(current) {
      let done = true;
      for (const phase of panel.querySelectorAll('[data-phase]')) {
        const isCurrent = phase.dataset.phase === current;
        if (isCurrent) done = false;
        phase.classList.toggle('current', isCurrent);
        phase.classList.toggle('done', done);
      }
    }

    const handlers = {
      run(data) {
        run = data.id;
      },
      progress(data) {
        showPercent(panel, data.percent);
        setText(panel, '[data-message]', data.message);
        if (data.phase) markPhases(data.phase);
        else if (typeof data.current === 'number') showTally(data.current - failed, failed);
      },
      log(data) {
        log.prepend(element('li', data.level, data.message));
        if (data.level === 'error') failed += 1;
      },
      result(data) {
        showTally(data.succeeded, data.failed);
        setText(panel, '[data-message]', `Done: ${data.succeeded} imported, ${data.failed} failed.`);
      },
      error(data) {
        setText(panel, '[data-message]', data.message);
      },
      done(data) {
        if (data.status === 'succeeded') markPhases(null);
        finish(data.status);
      },
    };

    function finish(status) {
      showStatus(panel, status);
      start.disabled = false;
      cancel.disabled = true;
      controller = null;
    }

    start.addEventListener('click', async () => {
      controller = new AbortController();
      failed = 0;
      log.replaceChildren();
      showPercent(panel, 0);
      showTally(0, 0);
      panel.querySelectorAll('[data-phase]').forEach((phase) => phase.classList.remove('current', 'done'));
      setText(panel, '[data-message]', 'Starting…');
      showStatus(panel, 'running');
      start.disabled = true;
      cancel.disabled = false;
      try {
        const onEvent = ({ event, data }) => handlers[event]?.(data);
        await djangoSSE.post(panel.dataset.stream, { signal: controller.signal, onEvent });
      } catch (error) {
        const aborted = error.name === 'AbortError';
        setText(panel, '[data-message]', aborted ? 'Cancelled: the server stopped the work.' : error.message);
        finish(aborted ? 'cancelled' : 'failed');
      }
    });
    // How a run ended, as the server recorded it (the page's stream): the counts of a
    // cancelled run are the server's, not the last tick this page happened to receive.
    djangoSSE.on('import_run', (ended) => {
      if (ended.id !== run || ended.status !== 'cancelled') return;
      showTally(ended.imported, ended.failed);
      setText(panel, '[data-message]', `Cancelled: the server stopped after ${ended.imported + ended.failed} of ${ended.total} items.`);
    });
    cancel.addEventListener('click', () => controller?.abort());
  }

  // A background job: djangoSSE.followJob() shows its state now (also after a
  // reload) and each change; the Cancel form posts to django_sse_progress:job_cancel.
  function jobPanel(panel) {
    const cancel = panel.querySelector('[data-cancel]');
    djangoSSE.followJob(panel.dataset.job, panel.dataset.stateUrl, (state) => {
      showPercent(panel, state.percent);
      setText(panel, '[data-message]', (state.status === 'failed' ? state.error : state.message) || '');
      showStatus(panel, state.status);
      cancel.disabled = FINAL.has(state.status);
    });
    panel.querySelector('form[data-cancel-job]').addEventListener('submit', async (event) => {
      event.preventDefault();
      const form = event.target;
      cancel.disabled = true;
      const token = form.querySelector('[name=csrfmiddlewaretoken]').value;
      const headers = { 'X-CSRFToken': token, Accept: 'application/json' };
      const response = await fetch(form.action, { method: 'POST', headers });
      if (FINAL.has(panel.dataset.status)) return; // the end arrived first
      setText(panel, '[data-message]', response.ok ? 'Cancelling…' : 'The job is not running.');
    });
  }

  // "Recent runs" of the batch import, updated as each run ends.
  function runsTable(table) {
    const body = table.querySelector('tbody');
    djangoSSE.on('import_run', (ended) => {
      let row = body.querySelector(`tr[data-run="${ended.id}"]`);
      if (!row) {
        row = element('tr');
        row.dataset.run = String(ended.id);
        for (let i = 0; i < 5; i += 1) row.append(element('td'));
        row.cells[4].textContent = 'just now';
        body.querySelector('tr.empty')?.remove();
        body.prepend(row);
      }
      row.cells[0].textContent = '#' + ended.id;
      row.cells[1].replaceChildren(element('span', 'pill ' + ended.status, ended.status));
      row.cells[2].textContent = `${ended.imported} of ${ended.total}`;
      row.cells[3].textContent = String(ended.failed);
    });
  }

  // "Your recent exports", updated by each job event of the user's stream.
  function jobsList(list) {
    djangoSSE.on('job', (state) => {
      if (state.name !== list.dataset.jobs) return;
      let item = list.querySelector(`li[data-job-id="${state.id}"]`);
      if (!item) {
        item = element('li');
        item.dataset.jobId = state.id;
        const started = new Date().toISOString().slice(11, 19); // UTC, as the server renders it
        const link = element('a', '', 'Export of ' + started);
        link.href = list.dataset.jobUrl.replace('00000000-0000-0000-0000-000000000000', state.id);
        item.append(link, ' ', element('span', 'pill'), ' ', element('span', 'percent'));
        list.querySelector('.empty')?.remove();
        list.prepend(item);
      }
      const pill = item.querySelector('.pill');
      pill.className = 'pill ' + state.status;
      pill.textContent = state.status;
      item.querySelector('.percent').textContent = Math.round(state.percent || 0) + '%';
    });
  }

  document.querySelectorAll('[data-stream]').forEach(streamPanel);
  document.querySelectorAll('[data-runs]').forEach(runsTable);
  document.querySelectorAll('[data-jobs]').forEach(jobsList);
  document.querySelectorAll('[data-job]').forEach(jobPanel);
})();
