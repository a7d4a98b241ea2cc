// The visit form (走访): each person's details open only when something is reported; another
// person found living here is added without a round trip; and everything typed is kept as a
// draft in the phone's own storage (localStorage), so that a dropped signal or a closed tab
// loses nothing. The draft is kept per household and carries the form's client_id: a visit
// saved from a restored draft is still stored once. The page a saved visit lands on
// ([data-draft-clear]) removes the draft it came from.
(function () {
  "use strict";
  var PREFIX = "louzhang:visit:";
  var MAX_AGE = 3 * 24 * 3600 * 1000; // an older draft is not offered again

  function storage() {
    try {
      var store = window.localStorage;
      store.setItem(PREFIX + "probe", "1");
      store.removeItem(PREFIX + "probe");
      return store;
    } catch (e) {
      return null; // private mode or storage switched off: the form still works
    }
  }

  function read(store, key) {
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  function clearSaved(store) {
    var saved = document.querySelector("[data-draft-clear]");
    if (!saved || !store) return;
    var key = PREFIX + saved.getAttribute("data-household");
    var draft = read(store, key);
    if (draft && draft.client_id === saved.getAttribute("data-client-id")) store.removeItem(key);
  }

  function controls(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrfmiddlewaretoken" && el.type !== "submit" &&
        el.type !== "button" && el.type !== "file";
    });
  }

  function snapshot(form) {
    var values = {};
    controls(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (!Array.isArray(values[el.name])) values[el.name] = [];
        if (el.checked) values[el.name].push(el.value);
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function restore(form, values) {
    controls(form).forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(values, el.name)) return;
      var value = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = Array.isArray(value) && value.indexOf(el.value) !== -1;
      } else if (typeof value === "string") {
        el.value = value;
      }
    });
  }

  function save(store, form, key) {
    if (!store) return;
    var values = snapshot(form);
    try {
      store.setItem(key, JSON.stringify({ client_id: values.client_id, saved_at: Date.now(), values: values }));
    } catch (e) {
      // storage full: the form still posts
    }
  }

  function addPerson(form) {
    var template = form.querySelector("template[data-person-template]");
    var extra = form.querySelector("input[name=extra]");
    if (!template || !extra) return null;
    var n = parseInt(extra.value || "1", 10) || 1;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__i__/g, String(n));
    var block = holder.querySelector("[data-person]");
    form.querySelector("[data-added]").appendChild(block);
    extra.value = String(n + 1);
    return block;
  }

  // what is shown follows what is chosen: the mode (nobody home hides the people), each
  // person's "nothing to report" / "report something", and the chosen buttons marked for
  // browsers without CSS :has()
  function refresh(form) {
    var mode = form.querySelector("input[name=mode]:checked");
    form.setAttribute("data-mode", mode ? mode.value : "");
    Array.prototype.forEach.call(form.querySelectorAll("[data-person]"), function (block) {
      var state = block.querySelector("input[name$='-state']:checked");
      block.setAttribute("data-state", state && state.value === "report" ? "report" : "nothing");
    });
    Array.prototype.forEach.call(form.querySelectorAll(".mode-button, .state-button"), function (label) {
      var input = label.querySelector("input");
      label.classList.toggle("checked", !!(input && input.checked));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    clearSaved(store);
    var form = document.querySelector("[data-visit-form]");
    if (!form) return;
    form.classList.add("js");
    var key = PREFIX + form.getAttribute("data-household");
    var notice = form.querySelector("[data-draft-notice]");
    if (store) {
      var draft = read(store, key);
      if (form.hasAttribute("data-bound")) {
        save(store, form, key); // the page the server sent back holds the latest values
      } else if (draft && draft.values && Date.now() - draft.saved_at < MAX_AGE) {
        var wanted = parseInt(draft.values.extra || "1", 10) || 1;
        var extra = form.querySelector("input[name=extra]");
        while (extra && (parseInt(extra.value, 10) || 1) < Math.min(wanted, 30)) addPerson(form);
        restore(form, draft.values);
        if (notice) notice.hidden = false;
      } else if (draft) {
        store.removeItem(key);
      }
    }
    refresh(form);
    form.addEventListener("change", function () {
      refresh(form);
      save(store, form, key);
    });
    form.addEventListener("input", function () {
      save(store, form, key);
    });
    var add = form.querySelector("[data-add-person]");
    if (add) {
      add.addEventListener("click", function (event) {
        event.preventDefault();
        var block = addPerson(form);
        refresh(form);
        save(store, form, key);
        var first = block && block.querySelector("input:not([type=hidden])");
        if (first) first.focus();
      });
    }
    var discard = form.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        if (store) store.removeItem(key);
        window.location.replace(window.location.pathname);
      });
    }
    // a double tap sends once (the client_id makes a resend harmless anyway)
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sending")) {
        event.preventDefault();
        return;
      }
      save(store, form, key);
      form.setAttribute("data-sending", "1");
    });
    window.addEventListener("pageshow", function () {
      form.removeAttribute("data-sending");
    });
  });
})();
