// Admin console enhancements. Every page works without this file: it only
//  - refreshes the publipostage preview and counters with the server-rendered fragment as filters change,
//  - follows a mail run's progress on its report page,
//  - keeps forms marked data-once from being submitted twice.
// Data is inserted with textContent only; the preview fragment is our own server's markup.
(function () {
  'use strict';

  const dataEl = document.getElementById('console-data');
  let data = { lang: document.documentElement.lang === 'en' ? 'en' : 'fr', messages: {} };
  if (dataEl) {
    try {
      data = JSON.parse(dataEl.textContent || '{}');
    } catch (_e) {
      /* keep defaults */
    }
  }
  const lang = data.lang === 'en' ? 'en' : 'fr';
  const numberFormat = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB');

  function msg(key, params) {
    let s = data.messages?.[key] || key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, function (m, name) {
        return Object.hasOwn(params, name) ? String(params[name]) : m;
      });
    }
    return s;
  }

  // ------------------------------------------------------------------------------------------ data-once

  Array.prototype.forEach.call(document.querySelectorAll('form[data-once]'), function (form) {
    form.addEventListener('submit', function () {
      // After the submission has started: a disabled button would not be submitted.
      setTimeout(function () {
        Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"]'), function (b) {
          b.disabled = true;
        });
      }, 0);
    });
  });

  // ------------------------------------------------------------------------------------------ live preview

  // The server renders the counters, the table and its pager (…/publipostage/apercu): this script only
  // fetches that fragment and swaps each [data-fragment] part in, so the markup exists once, on the server.
  const form = document.querySelector('form[data-live-preview]');
  const section = document.querySelector('[data-preview-section]');
  if (form && section && window.fetch && window.URLSearchParams && window.FormData && window.DOMParser) {
    const fragmentUrl = form.getAttribute('data-fragment-url');
    const statusEl = section.querySelector('[data-preview-status]');
    const busy = [section, document.querySelector('[data-preview-counters]')];
    let offset = 0;
    // Keyset paging: the pager's links carry the cursor of the row the page starts after (or ends before).
    let cursor = null;
    const pagerEl = section.querySelector('[data-pager]');
    if (pagerEl) offset = Number(pagerEl.getAttribute('data-offset')) || 0;
    const here = new URLSearchParams(window.location.search);
    if (here.get('after')) cursor = ['after', here.get('after')];
    else if (here.get('before')) cursor = ['before', here.get('before')];
    let seq = 0;
    let timer = null;
    const pagePath = form.getAttribute('action');
    // On a phone the long filter panel starts folded so the counters and the preview are in view;
    // its summary tells how many filters are active and opens it.
    const panel = form.querySelector('details.filter-panel');
    if (panel && window.matchMedia?.('(max-width: 47.99rem)').matches) panel.open = false;

    const formParams = function () {
      const p = new URLSearchParams();
      new FormData(form).forEach(function (v, k) {
        if (typeof v === 'string' && v.trim() !== '') p.append(k, v);
      });
      return p;
    };

    // The radio filters' defaults (console/selection.ts RADIO_DEFAULTS: distribution rules for the last three).
    const RADIO_DEFAULTS = { activation: 'all', email: 'all', localAdmins: 'all', origin: 'all', preDeletion: 'not', blocked: 'exclude', external: 'exclude' };

    const activeFilters = function (p) {
      let n = 0;
      ['profiles', 'levelIds', 'classIds'].forEach(function (k) {
        if (p.getAll(k).length) n++;
      });
      Object.keys(RADIO_DEFAULTS).forEach(function (k) {
        const v = p.get(k);
        if (v && v !== RADIO_DEFAULTS[k]) n++;
      });
      ['createdAfter', 'createdBefore', 'search'].forEach(function (k) {
        if (p.get(k)) n++;
      });
      return n;
    };

    const pluralKey = function (key, n) {
      const rule = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang === 'fr' ? 'fr-FR' : 'en-GB').select(n) : n === 1 ? 'one' : 'other';
      return key + (rule === 'one' ? '.one' : '.other');
    };

    const updateFilterCount = function (p) {
      const badge = form.querySelector('[data-filter-count]');
      if (!badge) return;
      const n = activeFilters(p);
      badge.textContent = n ? msg(pluralKey('filters.active', n), { n: n }) : msg('filters.none');
      badge.classList.toggle('badge-active', n > 0);
    };

    const pageUrl = function (p, off) {
      const q = new URLSearchParams(p);
      if (q.get('sort') === 'alpha') q.delete('sort');
      if (q.get('model') === '1') q.delete('model');
      Object.keys(RADIO_DEFAULTS).forEach(function (k) {
        if (q.get(k) === RADIO_DEFAULTS[k]) q.delete(k);
      });
      if (off > 0) q.set('offset', String(off));
      if (off > 0 && cursor) q.set(cursor[0], cursor[1]);
      const s = q.toString();
      return s ? pagePath + '?' + s : pagePath;
    };

    /** An empty selection: nothing to generate, the launch buttons are disabled and say why. */
    const updateLaunch = function (total) {
      const empty = total === 0;
      Array.prototype.forEach.call(form.querySelectorAll('[data-launch]'), function (b) {
        b.disabled = empty;
        if (empty) b.setAttribute('aria-describedby', 'launch-empty');
        else b.removeAttribute('aria-describedby');
      });
      const hint = form.querySelector('[data-launch-empty-label]');
      if (hint) hint.hidden = !empty;
    };

    const swap = function (markup) {
      const doc = new DOMParser().parseFromString('<body>' + markup + '</body>', 'text/html');
      Array.prototype.forEach.call(doc.querySelectorAll('[data-fragment]'), function (part) {
        const name = part.getAttribute('data-fragment');
        const current = document.querySelector('[data-fragment="' + name + '"]');
        if (current) current.replaceWith(document.importNode(part, true));
      });
      const counters = document.querySelector('[data-fragment="counters"]');
      if (counters) updateLaunch(Number(counters.getAttribute('data-total')) || 0);
    };

    const setBusy = function (on) {
      busy.forEach(function (e) {
        if (!e) return;
        if (on) e.setAttribute('aria-busy', 'true');
        else e.removeAttribute('aria-busy');
      });
    };

    const refresh = function () {
      const p = formParams();
      const mine = ++seq;
      updateFilterCount(p);
      const q = new URLSearchParams(p);
      if (offset > 0) q.set('offset', String(offset));
      if (offset > 0 && cursor) q.set(cursor[0], cursor[1]);
      setBusy(true);
      statusEl.textContent = msg('pp.loading');
      fetch(fragmentUrl + '?' + q.toString(), { credentials: 'same-origin', headers: { accept: 'text/html' } })
        .then(function (r) {
          // A 400 (an impossible date…) still carries the counters of what could be read.
          if (!r.ok && r.status !== 400) throw new Error(String(r.status));
          return r.text();
        })
        .then(function (markup) {
          if (mine !== seq) return;
          swap(markup);
          setBusy(false);
          // What the preview now reflects (lets tests and assistive tools know the refresh landed).
          section.setAttribute('data-preview-query', p.toString());
          statusEl.textContent = '';
          if (window.history && history.replaceState) history.replaceState(null, '', pageUrl(p, offset));
        })
        .catch(function () {
          if (mine !== seq) return;
          setBusy(false);
          statusEl.textContent = msg('pp.error');
        });
    };

    const schedule = function (delay) {
      clearTimeout(timer);
      timer = setTimeout(refresh, delay);
    };

    form.addEventListener('change', function (e) {
      const t = e.target;
      if (t && t.name === 'model') {
        if (window.history && history.replaceState) history.replaceState(null, '', pageUrl(formParams(), offset));
        return;
      }
      if (t && t.name === 'search') return; // handled on input
      offset = 0;
      schedule(150);
    });
    form.addEventListener('input', function (e) {
      if (e.target && e.target.name === 'search') {
        offset = 0;
        schedule(350);
      }
    });
    // "Filtrer" (or Enter) refreshes in place; the launch buttons (formaction) submit normally.
    form.addEventListener('submit', function (e) {
      const s = e.submitter;
      if (s?.hasAttribute('formaction')) return;
      e.preventDefault();
      offset = 0;
      schedule(0);
    });
    section.addEventListener('click', function (e) {
      const a = e.target?.closest ? e.target.closest('a[data-offset]') : null;
      if (!a) return;
      e.preventDefault();
      offset = Number(a.getAttribute('data-offset')) || 0;
      cursor = a.getAttribute('data-after') ? ['after', a.getAttribute('data-after')] : a.getAttribute('data-before') ? ['before', a.getAttribute('data-before')] : null;
      schedule(0);
      const h = document.getElementById('preview-title');
      if (h?.scrollIntoView) h.scrollIntoView({ block: 'start' });
    });
  }

  // ------------------------------------------------------------------------------------------ mail run report

  const run = document.querySelector('[data-run-status]');
  if (run && run.getAttribute('data-running') === '1' && window.fetch) {
    const url = run.getAttribute('data-run-status');
    const poll = function () {
      fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        })
        .then(function (s) {
          ['sent', 'failed', 'pending', 'withoutEmail'].forEach(function (k) {
            const e = run.querySelector('[data-run="' + k + '"]');
            if (e) e.textContent = numberFormat.format(s[k]);
          });
          const done = s.sent + s.failed;
          const bar = run.querySelector('[data-run-progress]');
          if (bar) {
            bar.setAttribute('aria-valuenow', String(done));
            const fill = bar.querySelector('.progress-fill');
            if (fill) fill.style.width = (s.queued ? Math.round((done / s.queued) * 1000) / 10 : 100) + '%';
          }
          if (s.pending > 0) {
            setTimeout(poll, 1500);
          } else {
            run.setAttribute('data-running', '0');
            const state = run.querySelector('[data-run-state]');
            if (state) state.textContent = msg('run.status.done');
          }
        })
        .catch(function () {
          setTimeout(poll, 5000);
        });
    };
    setTimeout(poll, 1000);
  }
})();
