/*
 * The instrument form in the browser: branching logic shows and hides fields as the user types,
 * calculated fields update live (both with logic.js, the twin of the server's evaluator; the
 * server stays authoritative on save), "Today" buttons, missing-data codes from each field's tools
 * menu (a <details>, one Tab stop), a warning
 * before leaving with unsaved changes, and a confirmation before a field that becomes hidden
 * loses its value (Cancel undoes the change that would hide it, as in REDCap).
 */
(function () {
  'use strict';
  var form = document.getElementById('instrument-form');
  if (!form || !window.RegistryLogic) return;
  var logic = window.RegistryLogic;
  var ctx = JSON.parse(document.getElementById('registry-context').textContent);
  var options = { missingCodes: ctx.missing_codes || [], today: ctx.today };
  var readonly = form.hasAttribute('data-readonly');
  var wrappers = Array.prototype.slice.call(form.querySelectorAll('.registry-field[data-field]'));
  var byName = {};
  wrappers.forEach(function (w) { byName[w.getAttribute('data-field')] = w; });
  var snapshot = {};
  var dirty = false;

  function inputsOf(w) {
    var name = w.getAttribute('data-field');
    return Array.prototype.slice.call(w.querySelectorAll('[name="' + name + '"]'));
  }
  function missingSelect(w) {
    return w.querySelector('input.registry-missing');
  }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  var dateOrder = ctx.date_order || 'dmy';  // the user's date format; stored dates are ISO
  function toIso(text) {
    var m = /^\s*(\d{1,2})[\/\-.](\d{1,2})[\/\-.](\d{4})(.*)$/.exec(text || '');
    if (!m || dateOrder === 'ymd') return (text || '').trim();
    var day = dateOrder === 'dmy' ? m[1] : m[2], month = dateOrder === 'dmy' ? m[2] : m[1];
    return m[3] + '-' + pad(+month) + '-' + pad(+day) + m[4];
  }
  function formatDate(d) {
    var y = d.getFullYear(), mo = pad(d.getMonth() + 1), day = pad(d.getDate());
    if (dateOrder === 'ymd') return y + '-' + mo + '-' + day;
    return dateOrder === 'dmy' ? day + '/' + mo + '/' + y : mo + '/' + day + '/' + y;
  }

  function valueOf(w) {
    var type = w.getAttribute('data-type');
    var missing = missingSelect(w);
    if (missing && missing.value) return type === 'checkbox' ? [missing.value] : missing.value;
    var inputs = inputsOf(w);
    if (type === 'checkbox') {
      return inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
    }
    if (inputs.length && inputs[0].type === 'radio') {
      var chosen = inputs.filter(function (i) { return i.checked; })[0];
      return chosen ? chosen.value : '';
    }
    if (!inputs.length) return '';
    var value = inputs[0].value;
    return w.hasAttribute('data-date') ? toIso(value) : value.trim();
  }
  function hasValue(w) {
    var v = valueOf(w);
    return Array.isArray(v) ? v.length > 0 : v !== '';
  }
  function clear(w) {
    inputsOf(w).forEach(function (i) {
      if (i.type === 'radio' || i.type === 'checkbox') i.checked = false; else i.value = '';
    });
    var missing = missingSelect(w);
    if (missing) missing.value = '';
    markCode(w);
  }
  function currentValues() {
    var values = Object.assign({}, ctx.values || {});
    wrappers.forEach(function (w) {
      if (w.getAttribute('data-type') !== 'descriptive') values[w.getAttribute('data-field')] = valueOf(w);
    });
    return values;
  }

  function runCalcs(values) {
    var calcs = wrappers.filter(function (w) { return w.hasAttribute('data-calc'); });
    for (var round = 0; round <= calcs.length; round++) {
      var changed = false;
      calcs.forEach(function (w) {
        var result;
        try { result = logic.calculate(w.getAttribute('data-calc'), values, options); }
        catch (e) { result = ''; }
        var name = w.getAttribute('data-field');
        if (values[name] !== result) {
          values[name] = result;
          inputsOf(w).forEach(function (i) { i.value = result; });
          changed = true;
        }
      });
      if (!changed) break;
    }
  }
  function visible(w, values) {
    var expr = w.getAttribute('data-branching');
    if (!expr) return true;
    try { return logic.isTrue(expr, values, options); } catch (e) { return true; }
  }

  function takeSnapshot() {
    wrappers.forEach(function (w) {
      snapshot[w.getAttribute('data-field')] = inputsOf(w).map(function (i) {
        return { el: i, value: i.value, checked: i.checked };
      }).concat(missingSelect(w) ? [{ el: missingSelect(w), value: missingSelect(w).value }] : []);
    });
  }
  function restore(name) {
    (snapshot[name] || []).forEach(function (s) {
      s.el.value = s.value;
      if (s.el.type === 'radio' || s.el.type === 'checkbox') s.el.checked = s.checked;
    });
    if (byName[name]) markCode(byName[name]);
  }

  // Evaluate calcs and branching; `trigger` is the field the user just changed (null on load).
  function apply(trigger) {
    for (var guard = 0; guard < wrappers.length + 1; guard++) {
      var values = currentValues();
      runCalcs(values);
      var losing = wrappers.filter(function (w) {
        return !w.hidden && !visible(w, values) && hasValue(w);
      });
      if (!losing.length || !trigger) break;
      if (guard === 0) {
        var names = losing.map(function (w) {
          return w.getAttribute('data-label') || w.getAttribute('data-field');
        }).join(', ');
        var question = (ctx.confirm_hide || 'This change hides %(names)s. Clear the value(s) ' +
                        'entered there? (The old values stay in the audit trail.)');
        if (!window.confirm(question.replace('%(names)s', names))) {
          restore(trigger);
          return apply(null);
        }
      }
      losing.forEach(clear);
    }
    var finalValues = currentValues();
    runCalcs(finalValues);
    wrappers.forEach(function (w) { w.hidden = !visible(w, finalValues); });
    takeSnapshot();
  }

  function markCode(w) {
    var missing = missingSelect(w);
    var coded = !!(missing && missing.value);
    w.classList.toggle('border-start', coded);
    w.classList.toggle('border-3', coded);
    w.classList.toggle('border-info', coded);
    w.classList.toggle('ps-2', coded);
    var badge = w.querySelector('.registry-code-badge');
    if (badge) {
      var button = coded && w.querySelector('.registry-code-button[data-code="' + missing.value + '"]');
      badge.textContent = button ? button.textContent : (coded ? missing.value : '');
      badge.hidden = !coded;
    }
  }

  function fieldOf(el) {
    var w = el.closest('.registry-field[data-field]');
    return w ? w.getAttribute('data-field') : null;
  }

  form.addEventListener('change', function (event) {
    var name = fieldOf(event.target);
    if (!name) return;
    dirty = true;
    var w = byName[name];
    if (event.target.classList.contains('registry-missing')) {
      if (event.target.value) {
        inputsOf(w).forEach(function (i) {
          if (i.type === 'radio' || i.type === 'checkbox') i.checked = false; else i.value = '';
        });
      }
    } else if (missingSelect(w) && event.target.name === name && hasOwnInput(w)) {
      missingSelect(w).value = '';
    }
    markCode(w);
    apply(name);
  });
  function hasOwnInput(w) {
    return inputsOf(w).some(function (i) {
      return (i.type === 'radio' || i.type === 'checkbox') ? i.checked : i.value.trim() !== '';
    });
  }
  form.addEventListener('input', function () { dirty = true; });
  form.addEventListener('click', function (event) {
    var codeButton = event.target.closest('.registry-code-button');
    if (codeButton) {
      var select = document.getElementById(codeButton.getAttribute('data-target'));
      select.value = codeButton.getAttribute('data-code');
      select.dispatchEvent(new Event('change', { bubbles: true }));
      closeMenus(null);
      return;
    }
    var button = event.target.closest('.registry-today');
    if (!button) return;
    var input = document.getElementById(button.getAttribute('data-target'));
    input.value = formatDate(new Date());
    input.dispatchEvent(new Event('change', { bubbles: true }));
    input.focus();
  });
  form.addEventListener('submit', function () { dirty = false; });
  window.addEventListener('beforeunload', function (event) {
    if (dirty && !readonly) { event.preventDefault(); event.returnValue = ''; }
  });

  // The per-field tools menu is a <details>: one at a time, closed by Escape or a click outside.
  function closeMenus(keep) {
    Array.prototype.forEach.call(document.querySelectorAll('details.registry-field-menu[open]'),
      function (d) { if (d !== keep) d.open = false; });
  }
  document.addEventListener('click', function (event) {
    closeMenus(event.target.closest('details.registry-field-menu'));
  });
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') return;
    var open = event.target.closest && event.target.closest('details.registry-field-menu[open]');
    if (open) { open.open = false; open.querySelector('summary').focus(); }
  });
  document.body.addEventListener('htmx:beforeRequest', function () { closeMenus(null); });

  var dialog = document.getElementById('history-dialog');
  document.body.addEventListener('htmx:afterSwap', function (event) {
    if (dialog && event.target.id === 'history-body' && !dialog.open) dialog.showModal();
  });

  wrappers.forEach(markCode);
  apply(null);
})();
