// Granary application editor: live character counters and autosave. The page works without
// this script; with it, the draft saves itself 1.5 seconds after the last change.
(function () {
  'use strict';

  function counterText(n, max) {
    if (n > max) {
      return n + ' / ' + max + ' characters: ' + (n - max) + ' over the limit';
    }
    return n + ' / ' + max + ' characters';
  }

  // Characters as people count them (a code point each), like the server.
  function length(s) {
    return Array.from(s).length;
  }

  function updateCounter(field) {
    var out = document.getElementById(field.getAttribute('data-counter'));
    var max = parseInt(field.getAttribute('data-max'), 10);
    if (!out || !max) {
      return;
    }
    var n = length(field.value);
    out.textContent = counterText(n, max);
    out.classList.toggle('over', n > max);
  }

  var counted = document.querySelectorAll('[data-counter]');
  Array.prototype.forEach.call(counted, function (field) {
    field.addEventListener('input', function () {
      updateCounter(field);
    });
    updateCounter(field);
  });

  var form = document.querySelector('form[data-autosave]');
  if (!form || !window.fetch || !window.URLSearchParams || !window.FormData) {
    return;
  }
  var status = document.getElementById('autosave-status');
  var conflictBanner = document.getElementById('autosave-conflict');
  var timer = null;
  var saving = false;
  var again = false;
  var pending = false;
  var stopped = false;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function timeOf(iso) {
    var d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' }).toLowerCase();
  }

  function showProblems(problems) {
    var list = document.getElementById('missing-list');
    if (!list || !problems) {
      return;
    }
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    problems.forEach(function (p) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      var target = document.getElementById(p.anchor) ? p.anchor : p.section;
      a.setAttribute('href', '#' + target);
      a.textContent = p.text;
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  function stop() {
    stopped = true;
    clearTimeout(timer);
    if (conflictBanner) {
      conflictBanner.hidden = false;
    }
    say('Not saved: someone else saved this application. Your text is still here.');
  }

  function save() {
    if (stopped) {
      return;
    }
    if (saving) {
      again = true;
      return;
    }
    saving = true;
    say('Saving…');
    var body = new URLSearchParams(new FormData(form)).toString();
    fetch(form.getAttribute('action'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/x-www-form-urlencoded'
      },
      body: body
    })
      .then(function (r) {
        return r
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            return { status: r.status, ok: r.ok, data: data };
          });
      })
      .then(function (res) {
        if (res.status === 409 && res.data && res.data.current) {
          stop();
          return;
        }
        if (!res.ok) {
          say('Not saved: ' + ((res.data && res.data.message) || 'the server refused the change') + '. Your text is still here.');
          return;
        }
        var version = form.querySelector('input[name="version"]');
        if (version && res.data.version !== undefined) {
          version.value = String(res.data.version);
        }
        showProblems(res.data.problems);
        var errors = res.data.errors || [];
        if (errors.length) {
          say('Saved ' + timeOf(res.data.saved_at) + ', except ' + errors.length + ' entr' + (errors.length === 1 ? 'y' : 'ies') + ' that could not be read: ' +
            errors.map(function (e) { return e.message; }).join('; ') + '.');
        } else {
          say('Saved ' + timeOf(res.data.saved_at));
        }
      })
      .catch(function () {
        if (navigator.onLine === false) {
          say('Not saved — you are offline; your text is still here. It will save when you are back online.');
        } else {
          say('Not saved — Granary could not be reached; your text is still here. Trying again shortly.');
        }
        schedule(10000);
      })
      .then(function () {
        saving = false;
        if (held) {
          release();
        } else if (again) {
          again = false;
          schedule(1500);
        }
      });
  }

  function schedule(delay) {
    if (stopped) {
      return;
    }
    clearTimeout(timer);
    pending = true;
    timer = setTimeout(function () {
      pending = false;
      save();
    }, delay);
  }

  // A form sent while an autosave is on its way waits for it, so it carries the version
  // that autosave produced (and is not refused as a conflict with one's own save); a form
  // that leaves the page (upload, remove, withdraw) first saves what was typed.
  var held = null;
  var releasing = false;
  function hold(ev, f, flush) {
    if (releasing || stopped) {
      return;
    }
    if (!saving && !(flush && pending)) {
      return;
    }
    ev.preventDefault();
    held = { form: f, submitter: ev.submitter };
    if (!saving) {
      clearTimeout(timer);
      pending = false;
      save();
    }
  }
  function release() {
    var h = held;
    held = null;
    releasing = true;
    if (h.form === form) {
      stopped = true;
    }
    if (h.form.requestSubmit) {
      h.form.requestSubmit(h.submitter || undefined);
    } else {
      h.form.submit();
    }
    releasing = false;
  }
  Array.prototype.forEach.call(document.querySelectorAll('form'), function (f) {
    if (f !== form) {
      f.addEventListener('submit', function (ev) {
        hold(ev, f, true);
      });
    }
  });

  form.addEventListener('input', function () {
    schedule(1500);
  });
  form.addEventListener('change', function () {
    schedule(1500);
  });
  window.addEventListener('online', function () {
    schedule(500);
  });
  // A normal submit (Save, Submit, or the conflict banner's button) takes over, once any
  // autosave on its way has come back with the new version.
  form.addEventListener('submit', function (ev) {
    hold(ev, form, false);
    if (ev.defaultPrevented) {
      return;
    }
    clearTimeout(timer);
    stopped = true;
  });
})();
