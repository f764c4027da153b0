// Enhancements for the class view and the template editor. Every page works without this file:
// it only adds a "select all" box, live selection counts, and click-to-insert merge fields.
(function () {
  'use strict';

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) {
      return k in values ? String(values[k]) : m;
    });
  }

  // data-<name>-one / data-<name>-other, chosen by the page language's plural rules (French: 0 and 1 singular).
  const rules = new Intl.PluralRules(document.documentElement.lang || 'fr');
  const numbers = new Intl.NumberFormat(document.documentElement.lang || 'fr');
  function counted(el, name, n) {
    const template = el.getAttribute('data-' + name + '-' + (rules.select(n) === 'one' ? 'one' : 'other'));
    return template == null ? null : fill(template, { n: numbers.format(n) });
  }

  // ------------------------------------------------------------------ class view
  const form = document.getElementById('class-form');
  if (form) {
    const boxes = Array.prototype.slice.call(form.querySelectorAll('input[type="checkbox"][name="ids"]'));
    const all = form.querySelector('[data-select-all]');
    const toggle = form.querySelector('[data-toggle-all]');
    const count = document.getElementById('selection-count');
    const sheets = form.querySelector('[data-sheets-count]');
    const familyCount = form.querySelector('[data-family-count]');

    const update = function () {
      const ticked = boxes.filter(function (b) {
        return b.checked;
      });
      const noEmail = ticked.filter(function (b) {
        return !b.closest('tr').hasAttribute('data-email');
      }).length;
      if (count) {
        let text = counted(form, 'count', ticked.length) || String(ticked.length);
        if (ticked.length && noEmail) text += ' (' + fill(form.getAttribute('data-noemail-template') || '{m}', { m: noEmail }) + ')';
        count.textContent = text;
      }
      const intro = sheets && counted(form, 'sheets', ticked.length);
      if (intro) sheets.textContent = intro;
      // « Fiches famille »: the ticked pupils the PDF prints and all their parents, each parent once (views.ts familyCount).
      if (familyCount && form.hasAttribute('data-family-other')) {
        const parents = new Set();
        let pupils = 0;
        ticked.forEach(function (b) {
          const tr = b.closest('tr');
          if (tr.hasAttribute('data-relative')) {
            if (tr.hasAttribute('data-family-sheet')) parents.add(b.value);
            return;
          }
          if (tr.hasAttribute('data-family-sheet')) pupils++;
          (tr.getAttribute('data-parents') || '').split(' ').forEach(function (id) {
            if (id) parents.add(id);
          });
        });
        familyCount.textContent = ticked.length
          ? fill(counted(form, 'family', pupils + parents.size) || '', { pupils: counted(form, 'pupils', pupils), parents: counted(form, 'parents', parents.size) })
          : '';
      }
      if (all) {
        all.checked = boxes.length > 0 && ticked.length === boxes.length;
        all.indeterminate = ticked.length > 0 && ticked.length < boxes.length;
      }
      boxes.forEach(function (b) {
        b.closest('tr').classList.toggle('is-selected', b.checked);
      });
      if (toggle) {
        const full = boxes.length > 0 && ticked.length === boxes.length;
        toggle.textContent = toggle.getAttribute(full ? 'data-label-none' : 'data-label-all') || toggle.textContent;
      }
    };

    const setAll = function (checked) {
      boxes.forEach(function (b) {
        b.checked = checked;
      });
      update();
    };

    if (all) {
      all.hidden = false;
      all.addEventListener('change', function () {
        setAll(all.checked);
      });
    }
    if (toggle) {
      // Without JS the link reloads the page with every box ticked; here it just ticks them: a button, then (its role
      // said by a screen reader, Space presses it as Enter does).
      toggle.setAttribute('role', 'button');
      toggle.addEventListener('click', function (e) {
        e.preventDefault();
        setAll(
          !boxes.every(function (b) {
            return b.checked;
          }),
        );
      });
      toggle.addEventListener('keydown', function (e) {
        if (e.key === ' ') {
          e.preventDefault();
          toggle.click();
        }
      });
    }
    boxes.forEach(function (b) {
      b.addEventListener('change', update);
    });
    update();
  }

  // ------------------------------------------------------------------ template editor
  // Fields go into the subject or the body, whichever was focused last in the same form (the body by default).
  const lastField = new WeakMap();
  document.querySelectorAll('[data-merge-target]').forEach(function (el) {
    el.addEventListener('focus', function () {
      if (el.form) lastField.set(el.form, el);
    });
  });
  document.querySelectorAll('button.merge-field[data-insert]').forEach(function (btn) {
    btn.addEventListener('click', function () {
      const target = (btn.form && lastField.get(btn.form)) || document.getElementById(btn.getAttribute('data-target'));
      if (!target) return;
      const text = btn.getAttribute('data-insert');
      const start = target.selectionStart == null ? target.value.length : target.selectionStart;
      const end = target.selectionEnd == null ? start : target.selectionEnd;
      target.focus();
      target.setRangeText(text, start, end, 'end');
      target.dispatchEvent(new Event('input', { bubbles: true }));
    });
  });
})();
