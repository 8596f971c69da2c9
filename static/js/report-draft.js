/* Monthly report form: nothing typed is lost if the connection drops and the page reloads.
 *
 * Every input of form#report-form (f_*, note_*, comment_*) is copied to localStorage under
 * the page's path on each change.  On load, a copy that is newer than the server's
 * data-saved-at (within 30 s when data-saved-by-me: our own autosave may have raced the last
 * keys) and was not yet saved (autosave marks it synced) is put back into the form,
 * and the notice [data-draft-notice] is shown.  A page shown after a successful save or
 * submit (data-clear-draft) drops the copy.  Also shows the correction note of a pre-filled
 * figure only once the figure differs from the case records.
 *
 * No inline code (CSP): included with <script src defer>; it runs again after an htmx
 * boosted swap, so init is idempotent per form element.  [data-draft-ready] on the form
 * tells the CSS that the script runs (static/css/reports.css).
 */
(function () {
  "use strict";

  var PREFIX = "bianmin-report-draft:";
  var NAMES = /^(f|note|comment)_/;
  var SLACK_MS = 30000;

  function store() {
    try {
      var s = window.localStorage;
      s.setItem(PREFIX + "probe", "1");
      s.removeItem(PREFIX + "probe");
      return s;
    } catch (e) {
      return null;
    }
  }

  function inputs(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && NAMES.test(el.name) && !el.disabled;
    });
  }

  function snapshot(form) {
    var out = {};
    inputs(form).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) {
          out[el.name] = el.value;
        } else if (!(el.name in out)) {
          out[el.name] = "";
        }
      } else {
        out[el.name] = el.value;
      }
    });
    return out;
  }

  function restore(form, values) {
    inputs(form).forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(values, el.name)) {
        return;
      }
      var value = String(values[el.name]);
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = el.value === value;
      } else if (el.tagName === "SELECT") {
        var known = Array.prototype.some.call(el.options, function (o) {
          return o.value === value;
        });
        if (known) {
          el.value = value;
        }
      } else {
        el.value = value;
      }
    });
  }

  function same(a, b) {
    var keys = Object.keys(a).concat(Object.keys(b));
    for (var i = 0; i < keys.length; i++) {
      if ((a[keys[i]] || "") !== (b[keys[i]] || "")) {
        return false;
      }
    }
    return true;
  }

  function asNumber(text) {
    var cleaned = String(text).replace(/[,，%％\s]/g, "");
    return cleaned === "" ? NaN : Number(cleaned);
  }

  /* The correction note of a pre-filled figure: shown once the value differs. */
  function toggleNotes(form) {
    var boxes = form.querySelectorAll("[data-correction-for]");
    Array.prototype.forEach.call(boxes, function (box) {
      var input = form.elements.namedItem(box.getAttribute("data-correction-for"));
      var note = box.querySelector("input");
      if (!input || !input.hasAttribute("data-source")) {
        return;
      }
      var value = input.value.trim();
      var differs = value !== "" && asNumber(value) !== asNumber(input.getAttribute("data-source"));
      var keep = differs || (note && note.value.trim() !== "");
      box.classList.toggle("same", !keep);
      if (note) {
        if (differs) {
          note.setAttribute("aria-required", "true");
        } else {
          note.removeAttribute("aria-required");
        }
      }
    });
  }

  function dropSavedFlag() {
    if (!window.history || !window.history.replaceState) {
      return;
    }
    var url = new URL(window.location.href);
    if (url.searchParams.has("saved")) {
      url.searchParams.delete("saved");
      window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
    }
  }

  function init(form) {
    if (form.getAttribute("data-draft-ready") === "1") {
      return;
    }
    /* An attribute, not a class: htmx's settle step puts an id'd element's class back. */
    form.setAttribute("data-draft-ready", "1");
    toggleNotes(form);

    var storage = store();
    if (!storage) {
      return;
    }
    var key = PREFIX + window.location.pathname;
    var savedAt = Date.parse(form.getAttribute("data-saved-at") || "") || 0;

    if (form.getAttribute("data-clear-draft") === "1") {
      storage.removeItem(key);
      dropSavedFlag();
    } else {
      var entry = null;
      try {
        entry = JSON.parse(storage.getItem(key) || "null");
      } catch (e) {
        entry = null;
      }
      /* Our own autosave may have been on its way while the last keys were typed: it
         committed after them, without them.  Allow for that (and some clock skew) when the
         server's copy was saved by this user; a colleague's later save always wins. */
      var slack = form.getAttribute("data-saved-by-me") === "1" ? SLACK_MS : 0;
      if (entry && entry.values && !entry.synced && entry.at + slack > savedAt &&
          !same(entry.values, snapshot(form))) {
        restore(form, entry.values);
        toggleNotes(form);
        var notice = document.querySelector("[data-draft-notice]");
        if (notice) {
          notice.hidden = false;
        }
      }
    }

    function write(synced) {
      try {
        storage.setItem(key, JSON.stringify({ at: Date.now(), values: snapshot(form), synced: synced }));
      } catch (e) {
        /* storage full or refused: the server copy (autosave) still holds */
      }
    }

    function changed() {
      write(false);
      toggleNotes(form);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);

    /* An autosave that answered 2xx holds what was sent: mark the copy synced, unless
       something was typed while it was on its way. */
    var sent = null;
    function isAutosave(event) {
      var elt = event.detail && event.detail.elt;
      return elt && elt.classList && elt.classList.contains("report-autosave");
    }
    form.addEventListener("htmx:beforeRequest", function (event) {
      if (isAutosave(event)) {
        sent = JSON.stringify(snapshot(form));
      }
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (isAutosave(event) && event.detail.successful && sent === JSON.stringify(snapshot(form))) {
        write(true);
      }
      sent = null;
    });
  }

  function start() {
    var form = document.getElementById("report-form");
    if (form) {
      init(form);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
