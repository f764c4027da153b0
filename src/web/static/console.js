// Admin console enhancements. Every page works without this file: it only
//  - refreshes the publipostage preview and counters from /api/publipostage/preview as filters change,
//  - follows a mail run's progress on its report page,
//  - keeps forms marked data-once from being submitted twice.
// Data is inserted with textContent only (never as markup).
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

  function pluralKey(key, n) {
    var one = lang === 'fr' ? n < 2 : n === 1;
    return key + (one ? '.one' : '.other');
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === 'text') e.textContent = attrs[k];
        else e.setAttribute(k, attrs[k]);
      });
    }
    (children || []).forEach(function (c) {
      if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }

  /** "{n} comptes sélectionnés au total" with the number in <strong data-value>, into `target`. */
  function fillCount(target, key, n) {
    var parts = msg(pluralKey(key, n)).split('{n}');
    target.textContent = '';
    target.appendChild(document.createTextNode(parts[0] || ''));
    target.appendChild(el('strong', { 'data-value': String(n), text: numberFormat.format(n) }));
    target.appendChild(document.createTextNode(parts[1] || ''));
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

  var form = document.querySelector('form[data-live-preview]');
  var section = document.querySelector('[data-preview-section]');
  if (form && section && window.fetch && window.URLSearchParams && window.FormData) {
    var structureId = form.getAttribute('data-structure');
    var tbody = section.querySelector('[data-preview-body]');
    var pagerEl = section.querySelector('[data-pager]');
    var statusEl = section.querySelector('[data-preview-status]');
    var limit = Number(pagerEl && pagerEl.getAttribute('data-limit')) || 50;
    var offset = Number(pagerEl && pagerEl.getAttribute('data-offset')) || 0;
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

    // The radio filters' defaults (console-shared.ts RADIO_DEFAULTS, distribution rules for the last three).
    var RADIO_DEFAULTS = { activation: 'all', email: 'all', localAdmins: 'all', origin: 'all', preDeletion: 'not', blocked: 'exclude', external: 'exclude' };

    var activeFilters = function (p) {
      var n = 0;
      ['profiles', 'levelIds', 'classIds'].forEach(function (k) {
        if (p.getAll(k).length) n++;
      });
      Object.keys(RADIO_DEFAULTS).forEach(function (k) {
        var v = p.get(k);
        if (v && v !== RADIO_DEFAULTS[k]) n++;
      });
      ['createdAfter', 'createdBefore', 'search'].forEach(function (k) {
        if (p.get(k)) n++;
      });
      return n;
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
      Object.keys(RADIO_DEFAULTS).forEach(function (k) {
        if (q.get(k) === RADIO_DEFAULTS[k]) q.delete(k);
      });
      if (off > 0) q.set('offset', String(off));
      var s = q.toString();
      return s ? pagePath + '?' + s : pagePath;
    };

    var badge = function (cls, text) {
      return el('span', { class: 'badge' + (cls ? ' ' + cls : ''), text: text });
    };

    var codeCell = function (r) {
      if (r.externalProvider) return badge('badge-info', r.code);
      if (r.activated) return badge('badge-success', msg('state.activated'));
      if (r.codeExpired) return badge('badge-danger', msg('state.codeExpired'));
      if (/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/.test(r.code)) return el('code', { class: 'activation-code', text: r.code });
      return badge('', msg('state.noCode'));
    };

    var renderRows = function (rows) {
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) {
        var name = el('td', null, [el('a', { href: '/console/utilisateurs/' + encodeURIComponent(r.id) + '?etablissement=' + encodeURIComponent(structureId), text: r.lastName })]);
        if (r.blocked) name.append(' ', badge('badge-danger', msg('state.blocked')));
        if (r.preDeleted) name.append(' ', badge('badge-warning', msg('state.preDeleted')));
        if (r.isLocalAdmin) name.append(' ', badge('badge-info', msg('state.localAdmin')));
        var email = r.email
          ? el('td', { text: r.email })
          : el('td', null, [el('span', { class: 'muted' }, ['—', el('span', { class: 'visually-hidden', text: ' ' + msg('col.noEmail') })])]);
        frag.appendChild(el('tr', { 'data-login': r.login }, [
          name,
          el('td', { text: r.firstName }),
          el('td', { text: msg('console.profiles.' + r.profile) }),
          el('td', null, [el('code', { text: r.login })]),
          el('td', null, [codeCell(r)]),
          email,
          el('td', { text: (r.classes || []).join(', ') }),
          el('td', { text: r.createdAt }),
        ]));
      });
      tbody.textContent = '';
      tbody.appendChild(frag);
    };

    var renderLeftOut = function (lines) {
      var list = section.querySelector('[data-counter="leftOut"]');
      if (!list) return;
      list.textContent = '';
      (lines || []).forEach(function (line) {
        list.appendChild(el('li', { text: line }));
      });
      list.hidden = !(lines && lines.length);
    };

    var renderCounters = function (total, withoutEmail, active) {
      fillCount(section.querySelector('[data-counter="total"]'), 'pp.total', total);
      fillCount(section.querySelector('[data-counter="withoutEmail"]'), 'pp.noEmail', withoutEmail);
      var list = section.querySelector('[data-counter="explain"]');
      list.textContent = '';
      if (total === 0) {
        list.appendChild(el('li', { text: msg('pp.explain.none') }));
        return;
      }
      var add = function (key, n) {
        var li = el('li');
        fillCount(li, key, n);
        list.appendChild(li);
      };
      add('pp.explain.mail', total - withoutEmail);
      if (withoutEmail) add('pp.explain.paper', withoutEmail);
      if (active) add('pp.explain.active', active);
    };

    var renderPager = function (p, total) {
      if (!pagerEl) return;
      pagerEl.setAttribute('data-offset', String(offset));
      pagerEl.setAttribute('data-total', String(total));
      var range = pagerEl.querySelector('[data-pager-range]');
      var last = Math.min(total, offset + limit);
      range.textContent = total === 0 ? '' : msg('pager.range', {
        first: numberFormat.format(offset + 1), last: numberFormat.format(last), total: numberFormat.format(total),
      });
      var links = pagerEl.querySelector('.pager-links');
      links.textContent = '';
      var link = function (text, off, rel, enabled) {
        if (!enabled) return el('span', { class: 'muted', 'aria-disabled': 'true', text: text });
        return el('a', { href: pageUrl(p, off), 'data-offset': String(off), rel: rel, text: text });
      };
      links.append(link(msg('pager.prev'), Math.max(0, offset - limit), 'prev', offset > 0), ' ', link(msg('pager.next'), offset + limit, 'next', last < total));
    };

    var getJson = function (url) {
      return fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      });
    };

    var refresh = function () {
      var p = formParams();
      var mine = ++seq;
      updateFilterCount(p);
      var api = new URLSearchParams(p);
      api.delete('model');
      api.set('structureId', structureId);
      var main = new URLSearchParams(api);
      main.set('limit', String(limit));
      main.set('offset', String(offset));
      // Already-activated accounts of the selection (they get renewal instructions): one more count.
      var wantActive = (p.get('activation') || 'all') !== 'inactive';
      var act = new URLSearchParams(api);
      act.set('activation', 'active');
      act.set('limit', '1');
      section.setAttribute('aria-busy', 'true');
      statusEl.textContent = msg('pp.loading');
      Promise.all([
        getJson('/api/publipostage/preview?' + main.toString()),
        wantActive ? getJson('/api/publipostage/preview?' + act.toString()) : Promise.resolve({ total: 0 }),
      ]).then(function (res) {
        if (mine !== seq) return;
        var r = res[0];
        renderCounters(r.total, r.withoutEmail, res[1].total);
        renderLeftOut(r.leftOutLines);
        renderRows(r.rows);
        renderPager(p, r.total);
        section.removeAttribute('aria-busy');
        // What the preview now reflects (lets tests and assistive tools know the refresh landed).
        section.setAttribute('data-preview-query', p.toString());
        statusEl.textContent = '';
        if (window.history && history.replaceState) history.replaceState(null, '', pageUrl(p, offset));
      }).catch(function () {
        if (mine !== seq) return;
        section.removeAttribute('aria-busy');
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
