// Admin console enhancements. Every page works without this file: it only
//  - refreshes the publipostage preview and counters with the server-rendered fragment as filters change,
//  - follows a mail run's progress on its report page,
//  - keeps forms marked data-once from being submitted twice.
// Data is inserted with textContent only; the preview fragment is our own server's markup.
(function () {
  'use strict';

  var dataEl = document.getElementById('console-data');
  var data = { lang: document.documentElement.lang === 'en' ? 'en' : 'fr', messages: {} };
  if (dataEl) {
    try {
      data = JSON.parse(dataEl.textContent || '{}');
    } catch (e) {
      /* keep defaults */
    }
  }
  var lang = data.lang === 'en' ? 'en' : 'fr';
  var numberFormat = new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB');

  function msg(key, params) {
    var s = (data.messages && data.messages[key]) || key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m;
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
  var form = document.querySelector('form[data-live-preview]');
  var section = document.querySelector('[data-preview-section]');
  if (form && section && window.fetch && window.URLSearchParams && window.FormData && window.DOMParser) {
    var fragmentUrl = form.getAttribute('data-fragment-url');
    var statusEl = section.querySelector('[data-preview-status]');
    var busy = [section, document.querySelector('[data-preview-counters]')];
    var offset = 0;
    var pagerEl = section.querySelector('[data-pager]');
    if (pagerEl) offset = Number(pagerEl.getAttribute('data-offset')) || 0;
    var seq = 0;
    var timer = null;
    var pagePath = form.getAttribute('action');
    // On a phone the long filter panel starts folded so the counters and the preview are in view;
    // its summary tells how many filters are active and opens it.
    var panel = form.querySelector('details.filter-panel');
    if (panel && window.matchMedia && window.matchMedia('(max-width: 47.99rem)').matches) panel.open = false;

    var formParams = function () {
      var p = new URLSearchParams();
      new FormData(form).forEach(function (v, k) {
        if (typeof v === 'string' && v.trim() !== '') p.append(k, v);
      });
      return p;
    };

    var activeFilters = function (p) {
      var n = 0;
      ['profiles', 'levelIds', 'classIds'].forEach(function (k) {
        if (p.getAll(k).length) n++;
      });
      ['activation', 'email', 'localAdmins', 'preDeletion', 'origin'].forEach(function (k) {
        var v = p.get(k);
        if (v && v !== 'all') n++;
      });
      ['createdAfter', 'createdBefore', 'search'].forEach(function (k) {
        if (p.get(k)) n++;
      });
      return n;
    };

    var pluralKey = function (key, n) {
      var rule = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang === 'fr' ? 'fr-FR' : 'en-GB').select(n) : n === 1 ? 'one' : 'other';
      return key + (rule === 'one' ? '.one' : '.other');
    };

    var updateFilterCount = function (p) {
      var badge = form.querySelector('[data-filter-count]');
      if (!badge) return;
      var n = activeFilters(p);
      badge.textContent = n ? msg(pluralKey('filters.active', n), { n: n }) : msg('filters.none');
      badge.classList.toggle('badge-active', n > 0);
    };

    var pageUrl = function (p, off) {
      var q = new URLSearchParams(p);
      if (q.get('sort') === 'alpha') q.delete('sort');
      if (q.get('model') === '1') q.delete('model');
      ['activation', 'email', 'localAdmins', 'preDeletion', 'origin'].forEach(function (k) {
        if (q.get(k) === 'all') q.delete(k);
      });
      if (off > 0) q.set('offset', String(off));
      var s = q.toString();
      return s ? pagePath + '?' + s : pagePath;
    };

    /** An empty selection: nothing to generate, the launch buttons are disabled and say why. */
    var updateLaunch = function (total) {
      var empty = total === 0;
      Array.prototype.forEach.call(form.querySelectorAll('[data-launch]'), function (b) {
        b.disabled = empty;
        if (empty) b.setAttribute('aria-describedby', 'launch-empty');
        else b.removeAttribute('aria-describedby');
      });
      var hint = form.querySelector('[data-launch-empty-label]');
      if (hint) hint.hidden = !empty;
    };

    var swap = function (markup) {
      var doc = new DOMParser().parseFromString('<body>' + markup + '</body>', 'text/html');
      Array.prototype.forEach.call(doc.querySelectorAll('[data-fragment]'), function (part) {
        var name = part.getAttribute('data-fragment');
        var current = document.querySelector('[data-fragment="' + name + '"]');
        if (current) current.replaceWith(document.importNode(part, true));
      });
      var counters = document.querySelector('[data-fragment="counters"]');
      if (counters) updateLaunch(Number(counters.getAttribute('data-total')) || 0);
    };

    var setBusy = function (on) {
      busy.forEach(function (e) {
        if (!e) return;
        if (on) e.setAttribute('aria-busy', 'true');
        else e.removeAttribute('aria-busy');
      });
    };

    var refresh = function () {
      var p = formParams();
      var mine = ++seq;
      updateFilterCount(p);
      var q = new URLSearchParams(p);
      if (offset > 0) q.set('offset', String(offset));
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

    var schedule = function (delay) {
      clearTimeout(timer);
      timer = setTimeout(refresh, delay);
    };

    form.addEventListener('change', function (e) {
      var t = e.target;
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
      var s = e.submitter;
      if (s && s.hasAttribute('formaction')) return;
      e.preventDefault();
      offset = 0;
      schedule(0);
    });
    section.addEventListener('click', function (e) {
      var a = e.target && e.target.closest ? e.target.closest('a[data-offset]') : null;
      if (!a) return;
      e.preventDefault();
      offset = Number(a.getAttribute('data-offset')) || 0;
      schedule(0);
      var h = document.getElementById('preview-title');
      if (h && h.scrollIntoView) h.scrollIntoView({ block: 'start' });
    });
  }

  // ------------------------------------------------------------------------------------------ mail run report

  var run = document.querySelector('[data-run-status]');
  if (run && run.getAttribute('data-running') === '1' && window.fetch) {
    var url = run.getAttribute('data-run-status');
    var poll = function () {
      fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
        .then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          return r.json();
        })
        .then(function (s) {
          ['sent', 'failed', 'pending', 'withoutEmail'].forEach(function (k) {
            var e = run.querySelector('[data-run="' + k + '"]');
            if (e) e.textContent = numberFormat.format(s[k]);
          });
          var done = s.sent + s.failed;
          var bar = run.querySelector('[data-run-progress]');
          if (bar) {
            bar.setAttribute('aria-valuenow', String(done));
            var fill = bar.querySelector('.progress-fill');
            if (fill) fill.style.width = (s.queued ? Math.round((done / s.queued) * 1000) / 10 : 100) + '%';
          }
          if (s.pending > 0) {
            setTimeout(poll, 1500);
          } else {
            run.setAttribute('data-running', '0');
            var state = run.querySelector('[data-run-state]');
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
