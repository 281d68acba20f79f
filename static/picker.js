// Pickers (docs/DOMAIN.md, "Pickers"); every form works without this file.
//
// 1. A person field (<input data-picker="active|owners">) takes a name, a username or the
//    label "林涛 (lin.tao)"; the server resolves what was typed. As the user types, this asks
//    /pick/users (names, usernames, pinyin, initials) and lists the people found under the
//    input; choosing one puts its label in the field. Without script the input's <datalist>
//    suggests the same people.
// 2. A grouped select that follows another (<select data-follows="region">, branches under
//    their region) shows only the options of the group chosen in the other select.
(function () {
  "use strict";

  function pickerFor(input) {
    if (input.getAttribute("data-picker-ready")) { return; }
    input.setAttribute("data-picker-ready", "1");
    input.removeAttribute("list");
    var list = document.createElement("ul");
    list.className = "picker-list";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    list.id = (input.id || input.name) + "-choices";
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-autocomplete", "list");
    // The list hangs under the input: both in a box of their own.
    var box = document.createElement("span");
    box.className = "picker";
    input.parentNode.insertBefore(box, input);
    box.appendChild(input);
    box.appendChild(list);
    var timer = null;
    var seq = 0;
    var active = -1;

    function close() { list.hidden = true; list.innerHTML = ""; active = -1; }
    function choose(li) {
      input.value = li.getAttribute("data-label");
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function mark(i) {
      var items = list.querySelectorAll("li[data-label]");
      if (!items.length) { return; }
      active = (i + items.length) % items.length;
      for (var k = 0; k < items.length; k++) {
        items[k].classList.toggle("active", k === active);
        items[k].setAttribute("aria-selected", k === active ? "true" : "false");
      }
    }
    function show(items) {
      list.innerHTML = "";
      active = -1;
      if (!items.length) {
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = input.getAttribute("data-none") || "—";
        list.appendChild(none);
      }
      items.forEach(function (u) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.setAttribute("data-label", u.label);
        li.setAttribute("data-username", u.username);
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = u.display_name;
        var more = document.createElement("small");
        more.textContent = " " + u.username + " · " + u.org_unit_name;
        li.appendChild(name);
        li.appendChild(more);
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(li); });
        list.appendChild(li);
      });
      list.hidden = false;
    }
    function ask() {
      var q = input.value.trim();
      if (!q) { close(); return; }
      var mine = ++seq;
      var pool = input.getAttribute("data-picker") || "active";
      fetch("/pick/users?pool=" + encodeURIComponent(pool) + "&q=" + encodeURIComponent(q),
        { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) { if (mine === seq && document.activeElement === input) { show(body.items || []); } })
        .catch(function () { close(); });
    }
    input.addEventListener("input", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(ask, 150);
    });
    input.addEventListener("keydown", function (ev) {
      if (list.hidden) { return; }
      if (ev.key === "ArrowDown") { ev.preventDefault(); mark(active + 1); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); mark(active - 1); }
      else if (ev.key === "Escape") { close(); }
      else if (ev.key === "Enter" && active >= 0) {
        ev.preventDefault();
        choose(list.querySelectorAll("li[data-label]")[active]);
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function follow(select) {
    var form = select.form;
    var leader = form && form.querySelector("select[name='" + select.getAttribute("data-follows") + "']");
    if (!leader) { return; }
    function apply() {
      var key = leader.value;
      var groups = select.querySelectorAll("optgroup");
      for (var i = 0; i < groups.length; i++) {
        var on = !key || groups[i].getAttribute("data-key") === key;
        groups[i].hidden = !on;
        groups[i].disabled = !on;
      }
      var chosen = select.options[select.selectedIndex];
      if (chosen && chosen.parentNode.tagName === "OPTGROUP" && chosen.parentNode.disabled) { select.value = ""; }
    }
    leader.addEventListener("change", apply);
    // A branch chosen first sets its region.
    select.addEventListener("change", function () {
      var chosen = select.options[select.selectedIndex];
      var g = chosen && chosen.parentNode;
      if (g && g.tagName === "OPTGROUP" && !leader.value) { leader.value = g.getAttribute("data-key"); apply(); }
    });
    apply();
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-picker]");
    for (var i = 0; i < inputs.length; i++) { pickerFor(inputs[i]); }
    var selects = document.querySelectorAll("select[data-follows]");
    for (var j = 0; j < selects.length; j++) { follow(selects[j]); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
